import { Controller, Get, NotFoundException, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { appTimeZone } from '../../common/timezone.js';
import { MailLogEvent } from '../../mail-log/mail-log.entity.js';
import { MailLogService, MailLogView } from '../../mail-log/mail-log.service.js';
import { isQueueId } from '../../queue/queue-id.js';
import { QueueService } from '../../queue/queue.service.js';
import { QueueEntryView } from '../../queue/queue.view.js';
import { renderView } from '../../web/htmx.js';

const VERBS: Record<MailLogEvent, string> = {
  received: 'received for',
  sent: 'delivered to',
  deferred: 'deferred for',
  bounced: 'bounced for',
  rejected: 'rejected for',
};

interface RecipientStatus {
  address: string;
  status: MailLogEvent | 'pending' | 'unknown';
  attempts: number | null;
  relay: string | null;
  reply: string | null;
  at: string | null;
}

/**
 * One message's whole story, a click away from the mail log and the queue: where it is now
 * (if still queued), each recipient's outcome, and every step from reception on, oldest first.
 * Lives in the dashboard module because it reads both the queue and the mail log (QueueModule
 * imports MailLogModule, so the mail-log module cannot import the queue).
 */
@Controller('messages')
export class MessageStoryController {
  constructor(
    private readonly queue: QueueService,
    private readonly mailLog: MailLogService,
  ) {}

  @Get(':id')
  async story(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const base = { title: 'Message ID', id, timeZone: appTimeZone() };
    if (!isQueueId(id)) {
      res.status(400);
      return renderView(req, res, 'pages/messages/missing', 'fragments/messages/missing', {
        ...base,
        problem: 'This is not a queue ID. Queue IDs are 17 characters of digits and consonants, as shown in the mail log and the queue.',
      });
    }
    const [entry, steps] = await Promise.all([this.queueEntry(id), this.mailLog.story(id)]);
    if (!entry && steps.length === 0) {
      res.status(404);
      return renderView(req, res, 'pages/messages/missing', 'fragments/messages/missing', {
        ...base,
        problem: 'No message with this queue ID is in the queue or in the mail log. It may never have existed, or its log entries have been removed.',
      });
    }
    const received = steps.find((s) => s.event === 'received');
    renderView(req, res, 'pages/messages/story', 'fragments/messages/story', {
      ...base,
      entry,
      summary: {
        subject: entry?.subject ?? received?.subject ?? null,
        from: entry?.from ?? received?.from ?? null,
        messageId: entry?.messageId ?? received?.messageId ?? null,
        receivedAt: entry?.createdAt ?? received?.at ?? null,
        size: entry?.size ?? received?.size ?? null,
        client: entry ? entry.clientAddress : (received?.clientAddress ?? null),
      },
      recipients: recipientStatuses(received, steps, entry),
      steps: steps.map((s) => ({ ...s, received: s.event === 'received', verb: VERBS[s.event] })),
      sending: entry?.state === 'sending',
    });
  }

  private async queueEntry(id: string): Promise<QueueEntryView | undefined> {
    try {
      return await this.queue.get(id);
    } catch (err) {
      if (err instanceof NotFoundException) return undefined;
      throw err;
    }
  }
}

/** Each recipient's latest outcome, in the order the message named them. */
function recipientStatuses(received: MailLogView | undefined, steps: MailLogView[], entry: QueueEntryView | undefined): RecipientStatus[] {
  const byAddress = new Map<string, RecipientStatus>();
  const add = (address: string) => {
    if (address && !byAddress.has(address)) byAddress.set(address, { address, status: 'unknown', attempts: null, relay: null, reply: null, at: null });
  };
  for (const address of received ? received.to.split(', ') : []) add(address);
  for (const address of entry?.to ?? []) add(address);
  for (const s of steps) {
    if (s.event === 'received') continue;
    add(s.to);
    const r = byAddress.get(s.to);
    if (!r) continue;
    r.status = s.event;
    r.attempts = s.attempt ?? r.attempts;
    r.relay = s.relay;
    r.reply = s.reply;
    r.at = s.at;
  }
  for (const r of byAddress.values()) if (r.status === 'unknown' && entry?.to.includes(r.address)) r.status = 'pending';
  return [...byAddress.values()];
}
