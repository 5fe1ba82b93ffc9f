import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { NotFound } from '../../common/domain-errors.js';
import { appTimeZone } from '../../common/timezone.js';
import { MailLogEvent, NoticeKind } from '../../mail-log/mail-log.entity.js';
import { MailLogService, MailLogView } from '../../mail-log/mail-log.service.js';
import { isQueueId } from '../../queue/queue-id.js';
import { QueueService } from '../../queue/queue.service.js';
import { QueueEntryView } from '../../queue/queue.view.js';
import { takeFlash } from '../../web/flash.js';
import { renderView, wantsFragment } from '../../web/htmx.js';
import { PREVIEW_BYTES, previewMessage } from '../../common/message-preview.js';

const VERBS: Record<MailLogEvent, string> = {
  received: 'received for',
  sent: 'delivered to',
  deferred: 'deferred for',
  bounced: 'bounced for',
  rejected: 'rejected for',
  held: 'held for',
  released: 'released for',
  deleted: 'deleted for',
  digested: 'carried by a digest for',
  test: 'test email to',
};

/** Lines about the whole message (its `to` lists every recipient), not one recipient's outcome. */
const MESSAGE_FATES: ReadonlySet<MailLogEvent> = new Set(['held', 'released', 'deleted', 'digested']);
/** A recipient whose latest word is one of these has not reached an end yet: a deletion or a digest ends it. */
const OPEN: ReadonlySet<RecipientStatus['status']> = new Set(['deferred', 'pending', 'unknown']);

interface RecipientStatus {
  address: string;
  status: MailLogEvent | 'pending' | 'unknown';
  attempts: number | null;
  relay: string | null;
  reply: string | null;
  at: string | null;
}

const NOTICE_LABELS: Record<NoticeKind, string> = { dsn: 'a delivery status notice (a bounce or a delay warning)', digest: 'an alert-storm digest', report: 'the daily report or heartbeat', alarm: 'an alarm to the notification channels' };

/** How the story tells a message's fate (a hold, a release, a deletion, a digest): a sentence, the digest to link to, a note. */
function fateOf(s: MailLogView): { fate?: string; digest?: string; note?: string } {
  switch (s.event) {
    case 'held':
      return { fate: `Put on hold (${s.detail ?? 'no reason given'})`, note: s.reply ?? undefined };
    case 'released':
      return { fate: `Released from hold by ${s.detail ?? 'an operator'}`, note: s.reply ?? undefined };
    case 'deleted':
      return { fate: `Deleted from the queue by ${s.detail ?? 'an operator'}` };
    case 'digested':
      return { fate: `Held back (${s.detail ?? 'alert storm'}) and carried by the digest`, digest: s.reply ?? undefined };
    default:
      return {};
  }
}

/** The pages a message page goes back to, and how its back link names them. */
const BACK_TO: Record<string, string> = { '/queue': 'the mail queue', '/mail-log': 'the mail log', '/': 'the dashboard', '/logs': 'the logs' };

/**
 * One message's whole story, a click away from the mail log and the queue: where it is now
 * (if still queued) with the actions its state allows, its headers and a text view of its body
 * while it is stored, a download of it as it is stored (.eml), each recipient's outcome, and
 * every step from reception on, oldest first. The back link returns to the list the operator
 * came from, with its filters.
 */
@Controller('messages')
export class MessageStoryController {
  constructor(
    private readonly queue: QueueService,
    private readonly mailLog: MailLogService,
  ) {}

  /** The message as stored, to download (while it is in the queue). */
  @Get(':id/raw')
  async raw(@Param('id') id: string, @Res() res: Response): Promise<void> {
    const data = isQueueId(id) ? await this.queue.raw(id).catch((err) => (err instanceof NotFound ? undefined : Promise.reject(err))) : undefined;
    if (!data) {
      res.status(404).type('text/plain').send('This message is not in the queue: its stored copy is gone once every recipient has an outcome, or it was deleted.');
      return;
    }
    res.type('message/rfc822').setHeader('Content-Disposition', `attachment; filename="${id}.eml"`);
    res.send(data);
  }

  @Get(':id')
  async story(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const back = backLink(req);
    const flash = takeFlash(req);
    const base = { title: `Message ${id}`, id, timeZone: appTimeZone(), back, flash, confirmDelete: req.query.confirm === 'delete' };
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
    // The live refresh redraws the story only: it needs no preview.
    const stored = entry && !wantsFragment(req) ? await this.queue.raw(id, PREVIEW_BYTES).catch((err) => (err instanceof NotFound ? undefined : Promise.reject(err))) : undefined;
    renderView(req, res, 'pages/messages/story', 'fragments/messages/story', {
      ...base,
      entry,
      preview: stored && entry ? await previewMessage(stored, entry.size) : undefined,
      actions: entry
        ? {
            flush: entry.state === 'queued' || entry.state === 'deferred',
            hold: entry.state === 'queued' || entry.state === 'deferred',
            release: entry.state === 'hold',
            delete: entry.state !== 'sending',
          }
        : undefined,
      summary: {
        subject: entry?.subject ?? received?.subject ?? null,
        from: entry?.from ?? received?.from ?? null,
        messageId: entry?.messageId ?? received?.messageId ?? null,
        receivedAt: entry?.createdAt ?? received?.at ?? null,
        size: entry?.size ?? received?.size ?? null,
        client: entry ? entry.clientAddress : (received?.clientAddress ?? null),
      },
      recipients: recipientStatuses(received, steps, entry),
      steps: steps.map((s) => ({ ...s, received: s.event === 'received', verb: VERBS[s.event], noticeLabel: s.notice ? NOTICE_LABELS[s.notice] : undefined, ...fateOf(s) })),
      sending: entry?.state === 'sending',
    });
  }

  private async queueEntry(id: string): Promise<QueueEntryView | undefined> {
    try {
      return await this.queue.get(id);
    } catch (err) {
      if (err instanceof NotFound) return undefined;
      throw err;
    }
  }
}

/** Where the back link goes: `?back=` (kept across the page's own actions), else the list page the browser came from, else the mail log. */
function backLink(req: Request): { href: string; label: string; query: string } {
  const link = (href: string, label: string) => ({ href, label, query: encodeURIComponent(href) });
  const candidates = [typeof req.query.back === 'string' ? req.query.back : undefined, req.get('referer')];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      const url = new URL(candidate, 'http://postroom.invalid');
      // Only this origin's list pages: never a link elsewhere.
      if (url.origin !== 'http://postroom.invalid' && url.host !== req.get('host')) continue;
      const label = BACK_TO[url.pathname];
      if (label) return link(url.pathname + url.search, label);
    } catch {
      // not a URL: try the next
    }
  }
  return link('/mail-log', 'the mail log');
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
    if (MESSAGE_FATES.has(s.event)) {
      if (s.event !== 'deleted' && s.event !== 'digested') continue;
      for (const r of byAddress.values()) {
        if (!OPEN.has(r.status)) continue;
        Object.assign(r, { status: s.event, relay: null, reply: s.event === 'deleted' ? `deleted by ${s.detail ?? 'an operator'}` : s.reply, at: s.at });
      }
      continue;
    }
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
