import connectPgSimple from 'connect-pg-simple';
import { csrfSync } from 'csrf-sync';
import type { NextFunction, Request, Response } from 'express';
import express from 'express';
import session from 'express-session';
import helmet from 'helmet';
import hbs from 'hbs';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { registerHelpers } from './view-helpers.js';

declare module 'express-session' {
  interface SessionData {
    admin?: boolean;
    loginAt?: number;
  }
}

/** The project root, found from this file whether it runs from src/ (tests) or dist/src/. */
export function projectRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + import.meta.dirname);
    dir = up;
  }
  return dir;
}

const PUBLIC_PATHS = [/^\/login$/, /^\/assets\//, /^\/api\//, /^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/favicon\.ico$/];

export interface WebOptions {
  databaseUrl: string;
  sessionSecret: string;
  secureCookies: boolean;
}

/**
 * Everything the dashboard needs from Express, before Nest registers its routes: views,
 * static assets (htmx from our own origin), security headers, sessions in PostgreSQL, CSRF
 * on every state-changing request, and a login wall around every page and fragment.
 */
export async function configureWeb(app: NestExpressApplication, options: WebOptions): Promise<void> {
  const root = projectRoot();
  const views = path.join(root, 'views');
  app.setBaseViewsDir(views);
  app.setViewEngine('hbs');
  registerHelpers(hbs);
  await new Promise<void>((resolve) => hbs.registerPartials(views, { rename: (n: string) => n }, () => resolve()));

  app.useBodyParser('urlencoded', { extended: false, limit: '1mb' });

  const htmxDir = path.dirname(createRequire(import.meta.url).resolve('htmx.org/dist/htmx.min.js'));
  app.use('/assets/htmx.min.js', (_req: Request, res: Response) => res.sendFile(path.join(htmxDir, 'htmx.min.js'), { maxAge: '1d' }));
  app.use('/assets', express.static(path.join(root, 'public'), { maxAge: '1h', index: false }));

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'", 'data:'],
          formAction: ["'self'"],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          objectSrc: ["'none'"],
        },
      },
      strictTransportSecurity: false,
    }),
  );

  const PgStore = connectPgSimple(session);
  const store = new PgStore({ conString: options.databaseUrl, tableName: 'web_session', createTableIfMissing: false, pruneSessionInterval: 600 });
  const sessions = session({
    name: 'postroom.sid',
    secret: options.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'strict', secure: options.secureCookies, maxAge: 8 * 3600 * 1000 },
  });

  const { csrfSynchronisedProtection, generateToken } = csrfSync({
    getTokenFromRequest: (req) => {
      const body = req.body as Record<string, unknown> | undefined;
      return (typeof body?._csrf === 'string' ? body._csrf : undefined) ?? (req.headers['x-csrf-token'] as string | undefined);
    },
  });

  const isApi = (req: Request) => req.path.startsWith('/api/') || req.path === '/healthz' || req.path === '/readyz' || req.path === '/metrics';

  app.use((req: Request, res: Response, next: NextFunction) => (isApi(req) ? next() : sessions(req, res, next)));
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (isApi(req)) return next();
    csrfSynchronisedProtection(req, res, (err?: unknown) => {
      if (err) {
        res.status(403).type('text/plain').send('Forbidden: this form has expired or did not come from Postroom (missing or wrong CSRF token). Reload the page and try again.');
        return;
      }
      res.locals.csrfToken = generateToken(req);
      next();
    });
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (PUBLIC_PATHS.some((p) => p.test(req.path)) || req.session?.admin) return next();
    if (req.method === 'GET' && req.path === '/oauth/google/callback' && req.query.bounced === undefined) {
      // Google sends the browser back cross-site, and the session cookie is SameSite=Strict, so
      // it is not sent on that navigation: load the same URL again from our own page (a
      // same-site navigation, no script), which carries the cookie. Once only (bounced=1).
      const again = `${req.originalUrl}${req.originalUrl.includes('?') ? '&' : '?'}bounced=1`.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      res.status(200).type('html').send(`<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${again}"><title>Postroom</title><p><a href="${again}">Continue</a></p>`);
      return;
    }
    if (req.headers['hx-request'] === 'true') {
      res.setHeader('HX-Redirect', '/login');
      res.status(401).end();
      return;
    }
    const nextUrl = req.method === 'GET' ? `?next=${encodeURIComponent(req.originalUrl)}` : '';
    res.redirect(303, `/login${nextUrl}`);
  });
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
}
