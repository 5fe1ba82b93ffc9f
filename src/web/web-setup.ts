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
import type { Logger } from 'pino';
import { BODY_LIMITS, formBodies } from './body-parsers.js';
import { DashboardSessions } from './dashboard-sessions.js';
import { loginCsrf, refuseForgedForm, sentCsrfToken } from './login-csrf.js';
import { loginWall } from './login-wall.js';
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

/** A session unused this long ends (each request starts the time again), within its lifetime since login. */
const IDLE_MS = 8 * 3600_000;

export interface WebOptions {
  databaseUrl: string;
  sessionSecret: string;
  /** Signs the login form's CSRF cookie. */
  loginCsrfSecret: string;
  sessions: DashboardSessions;
  logger: Logger;
}

/** What configureWeb opened outside Nest, for the shutdown to close. */
export interface WebResources {
  /** Ends the session store's own connection pool (Nest does not know it). */
  closeSessions(): Promise<void>;
}

/**
 * Handlebars indents every line of a partial called on an indented line of its own, which
 * changes what a <pre> or <textarea> inside it holds (a transcript, a webhook template, the
 * aliases): templates are compiled with preventIndent.
 */
function preventPartialIndent(): void {
  const h = hbs.handlebars as typeof hbs.handlebars & { postroomPreventIndent?: true };
  if (h.postroomPreventIndent) return;
  const compile = h.compile.bind(h);
  h.compile = ((input: Parameters<typeof compile>[0], options?: Parameters<typeof compile>[1]) => compile(input, { preventIndent: true, ...options })) as typeof compile;
  h.postroomPreventIndent = true;
}

/**
 * Everything the dashboard needs from Express, before Nest registers its routes: views,
 * static assets (htmx from our own origin), security headers, sessions in PostgreSQL (stored
 * only once logged in, ended SESSION_LIFETIME_HOURS after login), a login wall around every
 * page and fragment, form bodies read only behind it (but the login form's, kept small), and
 * CSRF on every state-changing request. Cookies are Secure when the request came over HTTPS,
 * directly or through a proxy that TRUST_PROXY believes.
 */
export async function configureWeb(app: NestExpressApplication, options: WebOptions): Promise<WebResources> {
  const root = projectRoot();
  const views = path.join(root, 'views');
  app.setBaseViewsDir(views);
  app.setViewEngine('hbs');
  preventPartialIndent();
  registerHelpers(hbs);
  await new Promise<void>((resolve) => hbs.registerPartials(views, { rename: (n: string) => n }, () => resolve()));

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
      // The message page's back link follows the list the operator came from (its Referer);
      // same-origin sends it within the dashboard and never to another site.
      referrerPolicy: { policy: 'same-origin' },
    }),
  );

  const PgStore = connectPgSimple(session);
  const store = new PgStore({
    conString: options.databaseUrl,
    tableName: 'web_session',
    createTableIfMissing: false,
    pruneSessionInterval: 600,
    // Its default, console.error, prints the whole pg client object (some hundred lines) for
    // every connection the server drops.
    errorLog: (message: string, err: unknown) => options.logger.warn({ module: 'sessions', err }, message.replace(/:$/, '')),
  });
  const sessions = session({
    name: 'postroom.sid',
    secret: options.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    // 'auto': Secure exactly when req.secure, which follows express's "trust proxy".
    cookie: { httpOnly: true, sameSite: 'strict', secure: 'auto', maxAge: Math.min(IDLE_MS, options.sessions.lifetimeMs) },
  });

  // Logged in: the synchronizer token kept in the session. The login form: a signed cookie
  // (login-csrf.ts), so that a visit stores no session.
  const { csrfSynchronisedProtection, generateToken } = csrfSync({ getTokenFromRequest: sentCsrfToken });
  const wall = loginWall(options.sessions);
  const loginForm = loginCsrf(options.loginCsrfSecret);
  const loginFormBody = formBodies(BODY_LIMITS.login);
  const formBody = formBodies(BODY_LIMITS.other);

  const isApi = (req: Request) => req.path.startsWith('/api/') || req.path === '/healthz' || req.path === '/readyz' || req.path === '/metrics';
  const isLogin = (req: Request) => req.path === '/login';

  app.use((req: Request, res: Response, next: NextFunction) => (isApi(req) ? next() : sessions(req, res, next)));
  app.use((req: Request, res: Response, next: NextFunction) => (isApi(req) ? next() : wall(req, res, next)));
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (isApi(req)) return next();
    if (isLogin(req)) return loginFormBody(req, res, next);
    // Past the wall and not the login: logged in, or a public path that takes no form.
    return req.session?.admin ? formBody(req, res, next) : next();
  });
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (isApi(req)) return next();
    if (isLogin(req)) return loginForm(req, res, next);
    csrfSynchronisedProtection(req, res, (err?: unknown) => {
      if (err) return refuseForgedForm(res);
      // Only a logged-in session gets a token: making one would store an anonymous session.
      if (req.session?.admin) res.locals.csrfToken = generateToken(req);
      next();
    });
  });
  app.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  return {
    closeSessions: async () => {
      await store.close(); // a promise that the pool has ended, although the types say void
    },
  };
}
