import { HttpException } from '@nestjs/common';
import express from 'express';
import { STATUS_CODES } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

/**
 * How many bytes of a request body are read, per route; past it the answer is 413. Parsers run
 * only once the caller is known (the bearer token, the session), but for the login form.
 */
export const BODY_LIMITS = {
  /** POST /api/v1/messages: a message's text and HTML (each at most 10 MB) as JSON. */
  message: 12 * 1024 * 1024,
  /** Every other API call and dashboard form: settings (aliases included), relays, queue actions. */
  other: 128 * 1024,
  /** The login form, read from anyone: a password of at most 1024 characters and where to go next. */
  login: 16 * 1024,
} as const;

/**
 * A refusal of the JSON parser (413 too large, 400 not JSON, 415 an unknown charset) in the API's
 * one error shape: statusCode, error (the status's name) and message.
 */
function parserError(err: unknown): unknown {
  const status = (err as { status?: unknown } | null)?.status;
  if (typeof status !== 'number' || status < 400 || status > 499) return err;
  const error = STATUS_CODES[status] ?? 'Bad Request';
  return new HttpException({ statusCode: status, error, message: err instanceof Error ? err.message : error }, status);
}

/** JSON for the API, mounted at /api/v1 after bearerFirst: the large limit for new messages only. */
export function apiJsonBodies() {
  const message = express.json({ limit: BODY_LIMITS.message });
  const other = express.json({ limit: BODY_LIMITS.other });
  return (req: Request, res: Response, next: NextFunction): void => {
    // req.path is relative to the mount; express routes case-insensitively and with a trailing slash.
    const isNewMessage = req.method === 'POST' && /^\/messages\/?$/i.test(req.path);
    (isNewMessage ? message : other)(req, res, (err?: unknown) => (err ? next(parserError(err)) : next()));
  };
}

/** Dashboard forms (application/x-www-form-urlencoded) up to `limit`. */
export const formBodies = (limit: number) => express.urlencoded({ extended: false, limit });
