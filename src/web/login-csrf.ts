import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const COOKIE = 'postroom.login';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The CSRF token a form sent: its _csrf field, or the X-CSRF-Token header. */
export function sentCsrfToken(req: Request): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const header = req.headers['x-csrf-token'];
  return typeof body?._csrf === 'string' ? body._csrf : typeof header === 'string' ? header : undefined;
}

/** The answer to a state-changing request without its form's token. */
export function refuseForgedForm(res: Response): void {
  res.status(403).type('text/plain').send('Forbidden: this form has expired or did not come from Postroom (missing or wrong CSRF token). Reload the page and try again.');
}

function cookieValue(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * CSRF for the login form without a stored session: a signed double-submit cookie. The token is
 * a random value and its HMAC; the form carries it and so does a SameSite=Strict cookie that
 * only /login receives. A POST must bring both, equal and signed with our key: another site can
 * neither read the token nor make the browser send the cookie, and a cookie planted from a
 * neighbouring host does not verify. Nothing is stored, so anonymous visits cost no session row.
 */
export function loginCsrf(secret: string) {
  const sign = (nonce: string) => createHmac('sha256', secret).update(nonce).digest('base64url');
  const mint = () => {
    const nonce = randomBytes(18).toString('base64url');
    return `${nonce}.${sign(nonce)}`;
  };
  const isOurs = (token: string) => {
    const [nonce, signature, extra] = token.split('.');
    return !!nonce && !!signature && extra === undefined && sameText(signature, sign(nonce));
  };
  return (req: Request, res: Response, next: NextFunction): void => {
    const cookie = cookieValue(req, COOKIE);
    const current = cookie && isOurs(cookie) ? cookie : undefined;
    if (!SAFE_METHODS.has(req.method)) {
      const sent = sentCsrfToken(req);
      if (!current || !sent || !sameText(sent, current)) return refuseForgedForm(res);
    }
    const token = current ?? mint();
    // A browser-session cookie: it lives as long as the login page may stay open.
    if (!current) res.cookie(COOKIE, token, { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/login' });
    res.locals.csrfToken = token;
    next();
  };
}
