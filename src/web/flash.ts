import type { Request, Response } from 'express';
import { wantsFragment } from './htmx.js';

declare module 'express-session' {
  interface SessionData {
    /** One message for the next full page after a plain (no-JS) form post. */
    flash?: string;
  }
}

/**
 * Post/redirect/get for plain forms: the message goes into the session, which is saved before
 * the 303 goes out (express-session would send the headers first and save after, and a browser
 * that follows the Location at once could read the session without it).
 */
export function flashRedirect(req: Request, res: Response, message: string, to: string): Promise<void> {
  req.session.flash = message;
  return new Promise((resolve, reject) =>
    req.session.save((err: unknown) => {
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      res.redirect(303, to);
      resolve();
    }),
  );
}

/** The message a redirect left for this page, once (an htmx fragment leaves it for the page). */
export function takeFlash(req: Request): string | undefined {
  const message = wantsFragment(req) ? undefined : req.session.flash;
  if (message) delete req.session.flash;
  return message;
}
