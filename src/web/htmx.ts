import type { Request, Response } from 'express';

/** An htmx request that wants a fragment (a history restore wants the whole page). */
export function wantsFragment(req: Request): boolean {
  return req.headers['hx-request'] === 'true' && req.headers['hx-history-restore-request'] !== 'true';
}

/**
 * One source per piece of HTML: the page includes its fragment; an htmx request gets the
 * fragment alone. `Vary: HX-Request` keeps caches from mixing the two.
 */
export function renderView(req: Request, res: Response, page: string, fragment: string, data: Record<string, unknown>): void {
  res.vary('HX-Request');
  if (wantsFragment(req)) res.render(fragment, { ...data, layout: false });
  else res.render(page, { ...data, layout: 'layouts/main' });
}

/** A query-string value as a trimmed string, or undefined. */
export function q(req: Request, name: string): string | undefined {
  const v = req.query[name];
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}
