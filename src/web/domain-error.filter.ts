import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Conflict, DomainError, InvalidInput, NotFound } from '../common/domain-errors.js';

/** The API's one error body; `fields` only when the request had fields to blame. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  fields?: Record<string, string>;
}

/** The status and body a domain error answers: what NestJS's own exceptions answer, so clients see one shape. */
export function errorBody(err: DomainError): ErrorBody {
  if (err instanceof InvalidInput) {
    const fields = Object.keys(err.fields).length ? { fields: err.fields } : {};
    return { statusCode: 400, error: 'Bad Request', message: err.message, ...fields };
  }
  if (err instanceof NotFound) return { statusCode: 404, error: 'Not Found', message: err.message };
  if (err instanceof Conflict) return { statusCode: 409, error: 'Conflict', message: err.message };
  // A new kind of domain error without a status here is a bug of this file, not the client's.
  return { statusCode: 500, error: 'Internal Server Error', message: 'Internal server error' };
}

const PAGE_TITLES: Record<number, string> = { 400: 'Bad request', 404: 'Not found', 409: 'Not possible now' };

/**
 * Services refuse with domain errors (common/domain-errors.ts); this is the one place they become
 * HTTP: JSON for the API, the bad-request page for a dashboard page that did not show the error
 * in its own form.
 */
@Catch(DomainError)
export class DomainErrorFilter implements ExceptionFilter {
  catch(err: DomainError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw err;
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;
    const body = errorBody(err);
    res.status(body.statusCode);
    if (req.path.startsWith('/api/')) {
      res.json(body);
      return;
    }
    res.render('pages/bad-request', {
      title: PAGE_TITLES[body.statusCode] ?? 'Error',
      message: body.message,
      layout: req.headers['hx-request'] === 'true' ? false : 'layouts/main',
    });
  }
}
