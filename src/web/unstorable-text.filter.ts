import { ArgumentsHost, Catch, Inject } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import type { Request, Response } from 'express';
import pg from 'pg';
import type { Logger } from 'pino';
import { QueryFailedError } from 'typeorm';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { CONTROL_CHARACTERS_REASON } from '../common/control-characters.js';

/**
 * PostgreSQL's answers to text it cannot store: 22021 (a NUL or bytes that are not UTF-8 in a
 * text value) and 22P05 (\u0000 in jsonb, such as an event's details).
 */
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

const MESSAGE = `The request holds text the database cannot store: it ${CONTROL_CHARACTERS_REASON}. Nothing was saved.`;

/**
 * The backstop behind the validation of every text field (control-characters.ts): such text is
 * the client's mistake, a 400 (JSON for the API, a page for the dashboard), never a 500. Any
 * other database error goes to Nest's own handling. Reaching here means a field lacks its
 * validation, so it is logged as a warning.
 */
@Catch(QueryFailedError, pg.DatabaseError)
export class UnstorableTextFilter extends BaseExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly log: Logger) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): void {
    const code = (exception as { code?: unknown }).code;
    if (host.getType() !== 'http' || typeof code !== 'string' || !UNSTORABLE_TEXT.has(code)) return super.catch(exception, host);
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    this.log.warn({ module: 'http', path: req.path, code }, 'text the database cannot store reached it: answered 400');
    if (res.headersSent) return;
    res.status(400);
    if (req.path.startsWith('/api/')) res.json({ statusCode: 400, error: 'Bad Request', message: MESSAGE });
    else res.render('pages/bad-request', { title: 'Bad request', message: MESSAGE, layout: req.headers['hx-request'] === 'true' ? false : 'layouts/main' });
  }
}
