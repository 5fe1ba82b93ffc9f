import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { EventLogService } from '../../events/event-log.service.js';
import { AdminPasswordService } from '../admin-password.service.js';
import { LoginEvents } from '../login-events.js';
import { LoginThrottle, waitText } from '../login-throttle.js';

/** Only same-site paths may follow a login (no open redirect). */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) && !value.startsWith('/login') ? value : '/';
}

@Controller()
export class AuthController {
  constructor(
    private readonly passwords: AdminPasswordService,
    private readonly events: EventLogService,
    private readonly logins: LoginEvents,
    private readonly throttle: LoginThrottle,
  ) {}

  @Get('login')
  loginPage(@Req() req: Request, @Res() res: Response): void {
    if (req.session.admin) return res.redirect(303, '/');
    // After a password change (account page): a fixed text, whatever else the URL says.
    const notice = req.query.changed === '1' ? 'Password changed. Every session has ended: log in with the new password.' : undefined;
    res.render('pages/login', { layout: 'layouts/bare', title: 'Log in', next: safeNext(req.query.next), notice });
  }

  @Post('login')
  async login(@Req() req: Request, @Res() res: Response): Promise<void> {
    const body = (req.body ?? {}) as { password?: unknown; next?: unknown };
    const client = req.ip ?? 'unknown';
    const next = safeNext(body.next);
    // Counted now, before the password check awaits argon2 (see LoginThrottle).
    const wait = this.throttle.admit(client);
    if (wait > 0) {
      res.status(429).setHeader('Retry-After', String(Math.ceil(wait / 1000)));
      return res.render('pages/login', { layout: 'layouts/bare', title: 'Log in', next, error: `Too many login attempts. Try again in ${waitText(wait)}.` });
    }
    const ok = await this.passwords.check(typeof body.password === 'string' ? body.password : '');
    if (!ok) {
      await this.events.recordSafely({ level: 'warning', source: 'system', message: `Failed dashboard login from ${client}`, details: { client } });
      res.status(401);
      return res.render('pages/login', { layout: 'layouts/bare', title: 'Log in', next, error: 'Wrong password.' });
    }
    this.throttle.succeeded(client);
    // A new session id at login: a session id planted before login is worth nothing (fixation).
    req.session.regenerate((err) => {
      if (err) return res.status(500).send('Could not start a session');
      req.session.admin = true;
      req.session.loginAt = Date.now();
      req.session.save(() => {
        void this.logins.succeeded(client);
        res.redirect(303, next);
      });
    });
  }

  @Post('logout')
  logout(@Req() req: Request, @Res() res: Response): void {
    req.session.destroy(() => {
      res.clearCookie('postroom.sid');
      res.redirect(303, '/login');
    });
  }
}
