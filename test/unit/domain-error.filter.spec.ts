import type { ArgumentsHost } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { Conflict, DomainError, InvalidInput, NotFound } from '../../src/common/domain-errors.js';
import { DomainErrorFilter } from '../../src/web/domain-error.filter.js';

interface Sent {
  status?: number;
  json?: unknown;
  view?: string;
  locals?: Record<string, unknown>;
}

/** An HTTP request/response pair as the filter sees it through Nest's ArgumentsHost. */
function http(path: string, headers: Record<string, string> = {}, headersSent = false): { host: ArgumentsHost; sent: Sent } {
  const sent: Sent = {};
  const res = {
    headersSent,
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
  } as unknown as ArgumentsHost;
  return { host, sent };
}

describe('DomainErrorFilter: domain errors answer the API in one shape', () => {
  it.each([
    [
      'InvalidInput with fields',
      new InvalidInput('Invalid settings: nothing was saved', { relayPort: 'must be a port number' }),
      { statusCode: 400, error: 'Bad Request', message: 'Invalid settings: nothing was saved', fields: { relayPort: 'must be a port number' } },
    ],
    ['InvalidInput without fields', new InvalidInput('Message refused: no valid recipients; nothing was queued'), { statusCode: 400, error: 'Bad Request', message: 'Message refused: no valid recipients; nothing was queued' }],
    ['NotFound', new NotFound('No relay 42'), { statusCode: 404, error: 'Not Found', message: 'No relay 42' }],
    ['Conflict', new Conflict('Message X is sending: cannot delete it now'), { statusCode: 409, error: 'Conflict', message: 'Message X is sending: cannot delete it now' }],
  ])('%s', (_what, err, body) => {
    const { host, sent } = http('/api/v1/whatever');
    new DomainErrorFilter().catch(err, host);
    expect(sent.status).toBe(body.statusCode);
    expect(sent.json).toEqual(body);
  });

  it('answers a dashboard page with the bad-request page, in the layout or alone for htmx', () => {
    const page = http('/queue/x/flush');
    new DomainErrorFilter().catch(new NotFound('No message x in the queue'), page.host);
    expect(page.sent).toMatchObject({ status: 404, view: 'pages/bad-request', locals: { title: 'Not found', message: 'No message x in the queue', layout: 'layouts/main' } });
    expect(page.sent.json).toBeUndefined();

    const fragment = http('/settings', { 'hx-request': 'true' });
    new DomainErrorFilter().catch(new InvalidInput('Invalid settings: nothing was saved', { x: 'y' }), fragment.host);
    expect(fragment.sent).toMatchObject({ status: 400, locals: { layout: false } });
  });

  it('writes nothing once the response has started', () => {
    const { host, sent } = http('/api/v1/queue', {}, true);
    new DomainErrorFilter().catch(new Conflict('too late'), host);
    expect(sent).toEqual({});
  });

  it('a domain error of a kind it does not know is a 500 that tells the client nothing', () => {
    class Unmapped extends DomainError {
      constructor() {
        super('internal detail');
      }
    }
    const { host, sent } = http('/api/v1/queue');
    new DomainErrorFilter().catch(new Unmapped(), host);
    expect(sent).toEqual({ status: 500, json: { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' } });
  });

  it('domain errors are plain Errors, named after their class', () => {
    const err = new InvalidInput('bad', { a: 'b' });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('InvalidInput');
    expect(err.fields).toEqual({ a: 'b' });
  });
});
