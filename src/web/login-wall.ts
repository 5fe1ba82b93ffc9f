import type { NextFunction, Request, Response } from 'express';
import { DashboardSessions } from './dashboard-sessions.js';

/** What anyone may reach without logging in (the API has its own bearer tokens). */
const PUBLIC_PATHS = [/^\/login$/, /^\/assets\//, /^\/api\//, /^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/favicon\.ico$/];

/** To the login: a page redirects there (303), htmx is told to go there, JSON callers get 401. */
function sendToLogin(req: Request, res: Response): void {
  if (req.headers['hx-request'] === 'true') {
    res.setHeader('HX-Redirect', '/login');
    res.status(401).end();
    return;
  }
  if (!req.accepts('html')) {
    res.status(401).json({ statusCode: 401, message: 'Log in to the dashboard first' });
    return;
  }
  const nextUrl = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
  res.redirect(303, `/login${nextUrl}`);
}

/**
 * The login wall around every page, fragment and form. A logged-in session that is over (past
 * its lifetime since login, or ended by a password change) is destroyed here and its caller
 * sent to the login, whatever it asked for. The wall runs before any body is read, so an
 * anonymous form post costs nothing to refuse.
 */
export function loginWall(sessions: DashboardSessions) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.session?.admin && sessions.isOver(req.sessionID, req.session.loginAt)) {
      req.session.destroy((err) => {
        if (err) return next(err);
        res.clearCookie('postroom.sid');
        sendToLogin(req, res);
      });
      return;
    }
    if (PUBLIC_PATHS.some((p) => p.test(req.path)) || req.session?.admin) return next();
    if (req.method === 'GET' && req.path === '/oauth/google/callback' && req.query.bounced === undefined) {
      // Google sends the browser back cross-site, and the session cookie is SameSite=Strict, so
      // it is not sent on that navigation: load the same URL again from our own page (a
      // same-site navigation, no script), which carries the cookie. Once only (bounced=1).
      const again = `${req.originalUrl}${req.originalUrl.includes('?') ? '&' : '?'}bounced=1`.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      res.status(200).type('html').send(`<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${again}"><title>Postroom</title><p><a href="${again}">Continue</a></p>`);
      return;
    }
    sendToLogin(req, res);
  };
}
