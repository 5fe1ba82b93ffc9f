import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { SettingsService } from '../settings/settings.service.js';

/** At most one ping this often, however much mail goes out. */
const PING_INTERVAL_MS = 60_000;
const PING_TIMEOUT_MS = 10_000;

/**
 * The dead man's switch (healthchecks.io style): after a successful delivery or relay probe,
 * a GET to the heartbeat URL of the settings, at most once a minute, never waited for. When
 * the pings stop, the service watching them tells the operator: it covers a Postroom that is
 * down, which nothing inside Postroom can report.
 */
@Injectable()
export class DeadMansSwitch {
  private last = 0;
  private readonly log: Logger;

  constructor(
    private readonly settings: SettingsService,
    @Inject(ROOT_LOGGER) root: Logger,
  ) {
    this.log = root.child({ module: 'heartbeat' });
  }

  /** The mail path just worked: ping, unless a ping went less than a minute ago. */
  worked(now = Date.now()): void {
    if (now - this.last < PING_INTERVAL_MS) return;
    this.last = now;
    void this.ping();
  }

  private async ping(): Promise<void> {
    const url = (await this.settings.get().catch(() => undefined))?.heartbeatUrl;
    if (!url) return;
    try {
      const res = await fetch(url, { redirect: 'follow', signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
      await res.body?.cancel();
      if (!res.ok) this.log.warn({ status: res.status }, 'dead man’s switch: the heartbeat URL answered an error');
    } catch (err) {
      // The URL is the secret of the check: only the cause is logged.
      this.log.warn({ reason: (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name }, 'dead man’s switch: the heartbeat URL could not be reached');
    }
  }
}
