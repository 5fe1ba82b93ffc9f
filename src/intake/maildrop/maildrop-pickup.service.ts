import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { FSWatcher, watch } from 'node:fs';
import type { Logger } from 'pino';
import { APP_CONFIG } from '../../config/config.module.js';
import type { AppConfig } from '../../config/config.schema.js';
import { EventLogService } from '../../events/event-log.service.js';
import { ROOT_LOGGER } from '../../logging/logging.module.js';
import { MailLogService } from '../../mail-log/mail-log.service.js';
import { IntakeService } from '../intake.service.js';
import { LocalMailService } from '../local-mail.service.js';
import { MessageRefused } from '../message-hygiene.js';
import { DropRefused, dropMessage } from './drop-message.js';
import { DropEntry, MaildropDirectory, writerAlive } from './maildrop-directory.js';
import { MaildropFormatError, parseMaildropFile } from './maildrop-file.js';
import { userName } from './system-users.js';

/** A scan even without a watch event: a missed event (or a database back from an outage) waits at most this long. */
const SCAN_MS = 10_000;
/** A file still 0600 this long after its last write, whose writer is gone, was never acknowledged. */
const ABANDONED_MS = 60 * 60_000;
/** Room for the envelope around the largest message the listener would take. */
const ENVELOPE_BYTES = 256 * 1024;
/** Failures in a row after which a pass stops: the database is away, not one file at fault. */
const FAILURES_IN_A_ROW = 2;
/** Passes in which a file failed while others were stored, after which it is moved aside. */
const FAILED_ALONE = 3;

/**
 * Postroom's pickup: takes the files the sendmail drop-in leaves in DATA_DIR/maildrop, oldest
 * first, one at a time, and queues each through IntakeService like any other submission (with
 * its arrival time). A file is removed only after its message is committed, so a crash at any
 * moment loses nothing; a crash between the commit and the removal queues that one file again.
 * A file that cannot become a message is moved aside with an event, never dropped silently and
 * never in the way of the others; so is one whose message fails to be stored again and again
 * while others are. While the database is away, files wait.
 */
@Injectable()
export class MaildropPickup implements OnApplicationShutdown {
  private readonly dir: MaildropDirectory;
  private readonly log: Logger;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private stopped = false;
  /** Files already reported as unreadable: one warning each, not one per scan. */
  private readonly reported = new Set<string>();
  /** Files whose message could not be stored while others were: how many passes so far, and why. */
  private readonly failedAlone = new Map<string, { passes: number; error: string }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly intake: IntakeService,
    private readonly localMail: LocalMailService,
    private readonly events: EventLogService,
    private readonly mailLog: MailLogService,
  ) {
    this.dir = new MaildropDirectory(config.dataDir);
    this.log = root.child({ module: 'maildrop' });
  }

  /** Creates the maildrop if needed, takes what waits there, and watches for more. */
  async start(): Promise<void> {
    await this.dir.ensure();
    try {
      this.watcher = watch(this.dir.path, () => this.poke());
      this.watcher.on('error', (err) => this.log.warn({ err }, 'maildrop watch failed: scanning every 10 s only'));
    } catch (err) {
      this.log.warn({ err }, 'cannot watch the maildrop: scanning every 10 s only');
    }
    this.timer = setInterval(() => this.poke(), SCAN_MS);
    this.timer.unref();
    this.poke();
  }

  /** Stops watching; a file being queued is finished first. */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.timer);
    await this.running;
  }

  /** Runs a pass now, or right after the current one. */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass()
      .catch((err: unknown) => this.log.error({ err }, 'maildrop pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.poke();
        }
      });
  }

  /** Resolves once every file waiting now has been dealt with (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /**
   * Takes every complete file, oldest first but those that failed before last, so that one file
   * whose message cannot be stored is never in the way of the others. Two failures in a row end
   * the pass (the database is away: the next scan tries again). A file that fails in
   * FAILED_ALONE passes while others are stored is moved aside with its error, as an event.
   */
  private async pass(): Promise<void> {
    const entries = await this.dir.list();
    const failedBefore = (e: DropEntry) => this.failedAlone.has(e.name);
    const failed = new Map<DropEntry, string>();
    let inARow = 0;
    let stored = false;
    for (const entry of [...entries.filter((e) => !failedBefore(e)), ...entries.filter(failedBefore)]) {
      if (this.stopped) return;
      if (!entry.complete) {
        if (Date.now() - entry.mtime.getTime() > ABANDONED_MS && !writerAlive(entry)) {
          await this.aside(entry, 'warning', 'was left half-written by a sendmail that did not finish (never acknowledged)').catch((err: unknown) => this.log.error({ err, file: entry.name }, 'could not move a maildrop file aside'));
        }
        continue;
      }
      // An error of this entry's own (a file system refusal, a bug) is a failure like any other, not the end of the pass.
      const taken = await this.take(entry).catch((err: unknown) => ({ error: String(err) }));
      if (typeof taken === 'string') {
        inARow = 0;
        stored ||= taken === 'stored'; // a refusal proves nothing of the database: its lines are best effort
        this.failedAlone.delete(entry.name);
        continue;
      }
      failed.set(entry, taken.error);
      if (++inARow >= FAILURES_IN_A_ROW) break;
    }
    if (!stored) return;
    for (const [entry, error] of failed) {
      const passes = (this.failedAlone.get(entry.name)?.passes ?? 0) + 1;
      if (passes < FAILED_ALONE) this.failedAlone.set(entry.name, { passes, error });
      else {
        this.failedAlone.delete(entry.name);
        await this.aside(entry, 'error', `could not be queued in ${passes} passes while other messages were (${error})`).catch((err: unknown) =>
          this.log.error({ err, file: entry.name }, 'could not move a maildrop file aside'),
        );
      }
    }
  }

  /** Queues one file ('stored'), or refuses it or leaves it for later ('handled'); the error when its message could not be stored now. */
  private async take(entry: DropEntry): Promise<'stored' | 'handled' | { error: string }> {
    const read = await this.dir.read(entry, this.config.smtp.maxMessageBytes + ENVELOPE_BYTES);
    if ('problem' in read) {
      switch (read.problem) {
        case 'gone':
          return 'handled';
        case 'unreadable':
          if (!this.reported.has(entry.name)) {
            this.reported.add(entry.name);
            await this.event('warning', `Maildrop file ${entry.name} (user ${userName(entry.uid)}) cannot be read: ${read.detail}; it stays until Postroom may read it`, entry);
          }
          return 'handled';
        case 'not-a-file':
          try {
            await this.dir.remove(entry);
          } catch (err) {
            // A directory (any user may make one here), or an entry Postroom may not remove: skipped, reported once.
            if (!this.reported.has(entry.name)) {
              this.reported.add(entry.name);
              await this.event('warning', `Maildrop entry ${entry.name} (user ${userName(entry.uid)}) is ${read.detail}, not a message, and cannot be removed (${(err as NodeJS.ErrnoException).code ?? String(err)}); it is skipped`, entry);
            }
            return 'handled';
          }
          await this.event('warning', `Maildrop entry ${entry.name} (user ${userName(entry.uid)}) removed: ${read.detail}, not a message`, entry);
          return 'handled';
        case 'too-big':
          await this.refuse(entry, `message size exceeds the limit of ${this.config.smtp.maxMessageBytes} bytes (${read.detail})`);
          return 'handled';
      }
    }
    let message;
    try {
      const local = await this.localMail.localDomains();
      message = dropMessage(parseMaildropFile(read.data), userName(entry.uid), (d) => local.has(d));
    } catch (err) {
      if (err instanceof MaildropFormatError) {
        await this.aside(entry, 'error', `is not a maildrop file Postroom can read: ${err.message}`);
        return 'handled';
      }
      if (err instanceof DropRefused) {
        await this.refuse(entry, err.message);
        return 'handled';
      }
      throw err;
    }
    let queueId: string;
    try {
      queueId = await this.intake.submit({
        envelopeFrom: message.from,
        recipients: message.to,
        raw: message.raw,
        fullName: message.fullName,
        client: { address: null, protocol: 'local', uid: entry.uid },
        receivedAt: entry.mtime,
      });
    } catch (err) {
      if (err instanceof MessageRefused) {
        await this.refuse(entry, err.message);
        return 'handled';
      }
      this.log.error({ err, file: entry.name }, 'maildrop message not stored: it stays for the next scan');
      return { error: String(err) };
    }
    if (message.refused.length) {
      await this.mailLog
        .append(message.refused.map((r) => ({ queueId, messageId: null, event: 'rejected' as const, sender: message.from, recipient: r, size: 0, reply: `not a valid recipient address: ${r}`, detail: 'maildrop' })))
        .catch((err: unknown) => this.log.warn({ err, queueId }, 'could not log refused recipients'));
    }
    await this.dir.remove(entry);
    this.reported.delete(entry.name);
    return 'stored';
  }

  /** A file that is a submission but cannot be queued: in the mail log as rejected, and moved aside. */
  private async refuse(entry: DropEntry, reason: string): Promise<void> {
    await this.mailLog
      .append([{ queueId: null, messageId: null, event: 'rejected', sender: userName(entry.uid), recipient: '', size: 0, reply: reason, detail: 'maildrop' }])
      .catch((err: unknown) => this.log.warn({ err, file: entry.name }, 'could not log a refused maildrop file'));
    await this.aside(entry, 'warning', `refused: ${reason}`);
  }

  private async aside(entry: DropEntry, level: 'warning' | 'error', what: string): Promise<void> {
    const where = await this.dir.moveAside(entry);
    await this.event(level, `Maildrop file ${entry.name} from user ${userName(entry.uid)} ${what}; moved to ${where}`, entry, { movedTo: where });
  }

  private async event(level: 'warning' | 'error', message: string, entry: DropEntry, extra: Record<string, unknown> = {}): Promise<void> {
    this.log[level === 'error' ? 'error' : 'warn']({ file: entry.name, uid: entry.uid }, message);
    await this.events.recordSafely({ level, source: 'maildrop', message, details: { file: entry.name, uid: entry.uid, user: userName(entry.uid), ...extra } });
  }
}
