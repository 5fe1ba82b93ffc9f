import { type ArgumentsHost, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import pg from 'pg';
import { pino } from 'pino';
import { QueryFailedError } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { UnstorableTextFilter } from '../../src/web/unstorable-text.filter.js';

interface Sent {
  status?: number;
  json?: unknown;
  view?: string;
  locals?: Record<string, unknown>;
  reply?: { body: unknown; status: number };
}

/** An HTTP request/response pair as the filter sees it through Nest's ArgumentsHost. */
function http(path: string, headers: Record<string, string> = {}): { host: ArgumentsHost; sent: Sent } {
  const sent: Sent = {};
  const res = {
    headersSent: false,
    status(code: number) {
      sent.status = code;
      return res;
    },
    json(body: unknown) {
      sent.json = body;
    },
    render(view: string, locals: Record<string, unknown>) {
      sent.view = view;
      sent.locals = locals;
    },
  };
  const req = { path, headers };
  const host = {
    getType: () => 'http',
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
    getArgByIndex: (i: number) => [req, res][i],
  } as unknown as ArgumentsHost;
  return { host, sent };
}

function filter(sent?: Sent): UnstorableTextFilter {
  const f = new UnstorableTextFilter(pino({ level: 'silent' }));
  // What Nest injects: the adapter the base filter answers other errors with.
  (f as unknown as { httpAdapterHost: Partial<HttpAdapterHost> }).httpAdapterHost = {
    httpAdapter: {
      isHeadersSent: () => false,
      reply: (_res: unknown, body: unknown, status: number) => {
        if (sent) sent.reply = { body, status };
      },
    },
  } as unknown as HttpAdapterHost;
  return f;
}

const pgError = (code: string) => Object.assign(new pg.DatabaseError('invalid byte sequence for encoding "UTF8": 0x00', 0, 'error'), { code });
const typeormError = (code: string) => new QueryFailedError('UPDATE settings SET from_name = $1', ['a\0b'], pgError(code));

describe('UnstorableTextFilter: text PostgreSQL cannot store is a 400, not a 500', () => {
  it.each([
    ['a TypeORM QueryFailedError 22021', typeormError('22021')],
    ['a pg DatabaseError 22021', pgError('22021')],
    ['a pg DatabaseError 22P05 (\\u0000 in jsonb)', pgError('22P05')],
  ])('answers the API 400 with a reason for %s', (_what, err) => {
    const { host, sent } = http('/api/v1/settings');
    filter().catch(err, host);
    expect(sent.status).toBe(400);
    expect(sent.json).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/control characters/) });
  });

  it('answers a dashboard page with a 400 page in the layout, and an htmx request with the page alone', () => {
    const page = http('/settings');
    filter().catch(typeormError('22021'), page.host);
    expect(page.sent.status).toBe(400);
    expect(page.sent.view).toBe('pages/bad-request');
    expect(page.sent.locals).toMatchObject({ layout: 'layouts/main', message: expect.stringMatching(/control characters/) });

    const fragment = http('/settings', { 'hx-request': 'true' });
    filter().catch(typeormError('22021'), fragment.host);
    expect(fragment.sent.status).toBe(400);
    expect(fragment.sent.locals).toMatchObject({ layout: false });
  });

  it('leaves every other database error to Nest: 500', () => {
    Logger.overrideLogger(false); // Nest logs the 500 it answers
    const { host, sent } = http('/api/v1/queue');
    filter(sent).catch(typeormError('23505'), host);
    expect(sent.status).toBeUndefined();
    expect(sent.reply).toEqual({ status: 500, body: { statusCode: 500, message: 'Internal server error' } });
  });
});
