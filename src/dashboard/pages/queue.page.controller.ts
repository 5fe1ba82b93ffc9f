import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { stripControlCharacters } from '../../common/control-characters.js';
import { Conflict, NotFound } from '../../common/domain-errors.js';
import { decodeCursor, DEFAULT_LIMIT, MAX_LIMIT } from '../../common/pagination.js';
import { appTimeZone } from '../../common/timezone.js';
import { flashRedirect, takeFlash } from '../../web/flash.js';
import { renderView } from '../../web/htmx.js';
import { stateLabel } from '../../web/view-helpers.js';
import { MESSAGE_STATES, MessageState } from '../../queue/message.entity.js';
import { isQueueId } from '../../queue/queue-id.js';
import { QueueAction } from '../../queue/queue.repository.js';
import { QueuePage, QueueService } from '../../queue/queue.service.js';
import { formBodyOf } from './form-body.js';

const ACTIONS: readonly QueueAction[] = ['flush', 'hold', 'release', 'delete'];
const DONE: Record<QueueAction, string> = { flush: 'flushed', hold: 'put on hold', release: 'released', delete: 'deleted' };
const MAX_ADDRESS = 320;

/** The list's filters and position, from a query string or a form's `back` field. */
interface ListQuery {
  state?: MessageState;
  address?: string;
  text?: string;
  cursor?: string;
  before?: string;
  limit: number;
}

/**
 * Anything malformed is dropped rather than refused: these come from links and forms. So are
 * control characters in the text (PostgreSQL cannot search for a NUL).
 */
function readListQuery(get: (name: string) => unknown): ListQuery {
  const str = (name: string) => {
    const v = get(name);
    const text = typeof v === 'string' ? stripControlCharacters(v).trim() : '';
    return text || undefined;
  };
  const cursorOf = (name: string) => {
    try {
      return decodeCursor(str(name), isQueueId);
    } catch {
      return undefined;
    }
  };
  const state = str('state');
  const limit = Number(str('limit') ?? DEFAULT_LIMIT);
  const before = cursorOf('before');
  return {
    state: MESSAGE_STATES.includes(state as MessageState) ? (state as MessageState) : undefined,
    address: str('address')?.slice(0, MAX_ADDRESS),
    text: str('q')?.slice(0, MAX_ADDRESS),
    before,
    cursor: before ? undefined : cursorOf('cursor'),
    limit: Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIMIT ? limit : DEFAULT_LIMIT,
  };
}

/** `/queue?...` for these filters, at the given position (none: the newest page). */
function listUrl(query: ListQuery, position: { cursor?: string | null; before?: string | null } = {}): string {
  const params = new URLSearchParams();
  if (query.state) params.set('state', query.state);
  if (query.address) params.set('address', query.address);
  if (query.text) params.set('q', query.text);
  if (query.limit !== DEFAULT_LIMIT) params.set('limit', String(query.limit));
  if (position.before) params.set('before', position.before);
  else if (position.cursor) params.set('cursor', position.cursor);
  const qs = params.toString();
  return qs ? `/queue?${qs}` : '/queue';
}

const encode = (key: string) => Buffer.from(key, 'utf8').toString('base64url');

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The Mail Queue pages of the dashboard (VergeOS' SMTP page: Mail Queue, Delete Queue, Flush
 * Queue). Plain links and forms that work without JavaScript; htmx swaps the table in place.
 */
@Controller('queue')
export class QueuePageController {
  constructor(private readonly queue: QueueService) {}

  @Get()
  async list(@Req() req: Request, @Res() res: Response): Promise<void> {
    const query = readListQuery((name) => req.query[name]);
    await this.render(req, res, query, { flash: takeFlash(req) });
  }

  @Get('flush')
  async flushConfirm(@Req() req: Request, @Res() res: Response): Promise<void> {
    const counts = await this.queue.counts();
    renderView(req, res, 'pages/queue/flush', 'fragments/queue/flush', {
      title: 'Flush Queue',
      nav: 'flush',
      count: counts.deferred + counts.queued,
      queued: counts.queued,
    });
  }

  @HttpCode(200)
  @Post('flush')
  async flush(@Req() req: Request, @Res() res: Response): Promise<void> {
    const { count } = await this.queue.flushAll('admin');
    renderView(req, res, 'pages/queue/flush', 'fragments/queue/flush', { title: 'Flush Queue', nav: 'flush', done: true, count });
  }

  @Get('delete')
  async deleteConfirm(@Req() req: Request, @Res() res: Response): Promise<void> {
    const counts = await this.queue.counts();
    renderView(req, res, 'pages/queue/delete', 'fragments/queue/delete', {
      title: 'Delete Queue',
      nav: 'delete',
      count: counts.queued + counts.deferred + counts.hold,
      sending: counts.sending,
    });
  }

  @HttpCode(200)
  @Post('delete')
  async deleteAll(@Req() req: Request, @Res() res: Response): Promise<void> {
    const { count } = await this.queue.deleteAll('admin');
    renderView(req, res, 'pages/queue/delete', 'fragments/queue/delete', { title: 'Delete Queue', nav: 'delete', done: true, count });
  }

  /** Bulk: one action (flush | hold | release | delete) on the selected ids, in one transaction. */
  @HttpCode(200)
  @Post('bulk')
  async bulk(@Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBodyOf(req);
    const action = ACTIONS.find((a) => a === body.action);
    const raw = [body.ids, body['ids[]']].flat().filter((v): v is string => typeof v === 'string');
    const ids = [...new Set(raw.filter(isQueueId))].slice(0, MAX_LIMIT);
    let message: string;
    if (!action) message = 'Choose an action: Flush, Hold, Release or Delete.';
    else if (ids.length === 0) message = 'Select at least one message first.';
    else {
      const { count } = await this.queue.bulk(action, ids, 'admin');
      message = `${plural(count, 'message', 'messages')} ${DONE[action]}`;
      if (count < ids.length) message += ` (${ids.length - count} of the selected could not be ${DONE[action]} in their current state)`;
      message += '.';
    }
    await this.afterPost(req, res, message);
  }

  @HttpCode(200)
  @Post(':id/:action')
  async one(@Param('id') id: string, @Param('action') action: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const act = ACTIONS.find((a) => a === action);
    let message: string;
    if (!act || !isQueueId(id)) {
      message = 'No such message or action.';
    } else {
      try {
        if (act === 'flush') await this.queue.flushOne(id, 'admin');
        else if (act === 'hold') await this.queue.holdOne(id, 'admin');
        else if (act === 'release') await this.queue.releaseOne(id, 'admin');
        else await this.queue.deleteOne(id, 'admin');
        message = `Message ${id} ${DONE[act]}.`;
      } catch (err) {
        if (!(err instanceof NotFound || err instanceof Conflict)) throw err;
        message = await this.refusal(id, act, err);
      }
    }
    // From the message's own page (a plain form): back to that page, which shows the result.
    const story = formBodyOf(req).story;
    if (typeof story === 'string' && isQueueId(id) && req.headers['hx-request'] !== 'true') {
      return flashRedirect(req, res, message, `/messages/${id}${story ? `?back=${encodeURIComponent(story)}` : ''}`);
    }
    await this.afterPost(req, res, message);
  }

  /**
   * Why an action on one message was refused, in the page's words: the state as a person says it
   * ("is on hold", not the stored "is hold"). A release refused for a message that waits for an
   * admin address keeps the service's explanation.
   */
  private async refusal(id: string, action: QueueAction, err: NotFound | Conflict): Promise<string> {
    const reason = err.message + '.';
    if (err instanceof NotFound) return reason;
    const now = await this.queue.get(id).catch(() => undefined);
    if (!now) return `Message ${id} is no longer in the queue.`;
    if (action === 'release' && now.state === 'hold') return reason;
    return `Message ${id} is ${stateLabel(now.state)}: cannot ${action} it now.`;
  }

  /** Plain form: 303 back to the list it came from, message in the session; htmx: the table with it. */
  private async afterPost(req: Request, res: Response, message: string): Promise<void> {
    const back = formBodyOf(req).back;
    const params = new URLSearchParams(typeof back === 'string' ? back.replace(/^\?/, '') : '');
    const query = readListQuery((name) => params.get(name) ?? undefined);
    if (req.headers['hx-request'] === 'true') {
      await this.render(req, res, query, { notice: message });
      return;
    }
    await flashRedirect(req, res, message, listUrl(query, { cursor: query.cursor ? encode(query.cursor) : null, before: query.before ? encode(query.before) : null }));
  }

  private async render(req: Request, res: Response, query: ListQuery, extra: { flash?: string; notice?: string }): Promise<void> {
    const filter = { state: query.state, address: query.address, text: query.text, limit: query.limit };
    let page: QueuePage;
    let prev: string | null = null;
    if (query.before) {
      page = await this.queue.list({ ...filter, before: query.before });
      // Back at the top: show the newest page, full, rather than a short slice of it.
      if (!page.prevCursor) page = await this.queue.list(filter);
      else prev = page.prevCursor;
    } else {
      page = await this.queue.list({ ...filter, cursor: query.cursor });
      if (query.cursor) prev = encode(page.items[0]?.id ?? query.cursor);
    }
    const onFirst = !prev;
    const here = onFirst ? listUrl(query) : listUrl(query, { cursor: query.cursor ? encode(query.cursor) : null, before: query.before ? encode(query.before) : null });
    const counts = await this.queue.counts();
    renderView(req, res, 'pages/queue/index', 'fragments/queue/table', {
      title: 'Mail Queue',
      nav: 'queue',
      timeZone: appTimeZone(),
      ...extra,
      items: page.items.map((m) => ({
        ...m,
        canFlush: m.state === 'queued' || m.state === 'deferred',
        canHold: m.state === 'queued' || m.state === 'deferred',
        canRelease: m.state === 'hold',
        canDelete: m.state !== 'sending',
      })),
      filter: { state: query.state ?? '', address: query.address ?? '', q: query.text ?? '', limit: query.limit === DEFAULT_LIMIT ? '' : String(query.limit) },
      states: MESSAGE_STATES.map((s) => ({ value: s, label: s === 'hold' ? 'held' : s, count: counts[s], selected: s === query.state })),
      total: counts.queued + counts.deferred + counts.hold + counts.sending,
      filtered: Boolean(query.state || query.address || query.text),
      here,
      back: here.replace(/^\/queue\??/, ''),
      newestUrl: onFirst ? null : listUrl(query),
      prevUrl: prev ? listUrl(query, { before: prev }) : null,
      nextUrl: page.nextCursor ? listUrl(query, { cursor: page.nextCursor }) : null,
    });
  }
}
