import { UnauthorizedException } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiTokenService } from './api-token.service.js';

/** The token of "Authorization: Bearer <token>", or undefined for any other header. */
export const bearerToken = (header: string | undefined): string | undefined => /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];

/** The 401 of the API, in its one error shape (statusCode, error, message). */
export const tokenRequired = () => new UnauthorizedException({ statusCode: 401, error: 'Unauthorized', message: 'A valid bearer token is required (Authorization: Bearer <token>)' });

/** Requests whose token bearerFirst verified, so that the guard does not verify it again. */
const verified = new WeakSet<Request>();

export const verifiedByBearerFirst = (req: Request): boolean => verified.has(req);

/**
 * Calls `then` once the rest of the request's body has arrived, discarded unparsed, when its
 * declared length is at most `upTo` bytes; at once otherwise. Answered early, a client still
 * sending gets a reset connection instead of the answer when the server closes (as Node does
 * for "Connection: close").
 */
function afterDiscardedBody(req: Request, upTo: number, then: () => void): void {
  const length = Number(req.headers['content-length']);
  if (req.complete || !(length <= upTo)) return then();
  let called = false;
  const once = () => {
    if (called) return;
    called = true;
    then();
  };
  req.once('end', once).once('close', once).once('error', once).resume();
}

/**
 * Verifies the bearer token of a request before anything reads its body: a caller without a
 * valid token gets 401 for the price of a hash, not of parsing up to 12 MB of JSON. The error
 * goes to Nest's exception handler, so the answer is the guard's own.
 */
export function bearerFirst(tokens: ApiTokenService, options: { discardUpTo: number }) {
  const refuse = (req: Request, next: NextFunction) => afterDiscardedBody(req, options.discardUpTo, () => next(tokenRequired()));
  return (req: Request, _res: Response, next: NextFunction): void => {
    const token = bearerToken(req.headers.authorization);
    if (!token) return refuse(req, next);
    tokens.verify(token).then((ok) => {
      if (!ok) return refuse(req, next);
      verified.add(req);
      next();
    }, next);
  };
}
