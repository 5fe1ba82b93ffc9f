import { Injectable } from '@nestjs/common';
import { EventLogService } from '../events/event-log.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { type ChannelReply, postToChannel } from './channel-post.js';
import { SAMPLE_ALERT, channelRequest } from './channel-request.js';
import { ChannelsService } from './channels.service.js';

/** A channel test's diagnosis: like the test email's, what happened at which step. */
export interface ChannelTestResult extends Omit<ChannelReply, 'status' | 'retryAfterMs'> {
  ok: boolean;
  channel: string;
}

/** Sends the sample alert to one channel at once (not through the queue) and records the outcome in the event log. */
@Injectable()
export class ChannelTestService {
  constructor(
    private readonly channels: ChannelsService,
    private readonly settings: SettingsService,
    private readonly events: EventLogService,
  ) {}

  async test(id: string, actor: string): Promise<ChannelTestResult> {
    const { name, target } = await this.channels.target(id);
    const s = await this.settings.get();
    const alert = { ...SAMPLE_ALERT, host: await this.settings.heloName(), date: new Date().toISOString() };
    const reply = await postToChannel(channelRequest(target, alert), s.timeoutSeconds * 1000);
    const ok = reply.status === 'sent';
    await this.events.recordSafely({
      level: ok ? 'info' : 'warning',
      source: 'settings',
      message: `Channel test of ${name} by ${actor}: ${ok ? 'delivered' : 'failed'} (${reply.reply})`,
      details: { actor, channelId: id, step: reply.step, code: reply.code, reply: reply.reply, ms: reply.ms },
    });
    return { ok, channel: name, step: reply.step, code: reply.code, reply: reply.reply, ms: reply.ms };
  }
}
