import { Controller, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { FieldErrors } from '../../common/field-errors.js';
import { renderView } from '../../web/htmx.js';
import { AdminPasswordService } from '../admin-password.service.js';
import { LoginThrottle, waitText } from '../login-throttle.js';
import { MIN_PASSWORD_LENGTH, newPasswordErrors } from '../password-rule.js';
import { formBodyOf } from './form-body.js';

/** Where the login page says that the password changed (a fixed message: the URL carries no text). */
export const PASSWORD_CHANGED_LOGIN = '/login?changed=1';

/**
 * Account: the admin password, changed with the current one and the new one twice. A change
 * ends every dashboard session, this one too: whoever had the old password is out, and the
 * operator logs in again with the new one.
 */
@Controller('account')
export class AccountPageController {
  constructor(
    private readonly passwords: AdminPasswordService,
    private readonly throttle: LoginThrottle,
  ) {}

  @Get()
  page(@Req() req: Request, @Res() res: Response): void {
    this.render(req, res, {});
  }

  @HttpCode(200)
  @Post('password')
  async change(@Req() req: Request, @Res() res: Response): Promise<void> {
    const body = formBodyOf(req);
    const text = (name: string) => (typeof body[name] === 'string' ? body[name] : '');
    const current = text('current');
    const password = text('password');
    const errors = newPasswordErrors({ current, password, confirm: text('confirm') });
    const client = req.ip ?? 'unknown';

    if (!current) errors.current = 'Enter the current password.';
    else {
      // A session left open on someone's screen must not become a way to guess the password:
      // these checks count with the login's.
      const wait = this.throttle.admit(client);
      if (wait > 0) {
        res.status(429).setHeader('Retry-After', String(Math.ceil(wait / 1000)));
        return this.render(req, res, { current: `Too many password attempts. Try again in ${waitText(wait)}.` });
      }
      if (await this.passwords.check(current)) this.throttle.succeeded(client);
      else errors.current = 'This is not the current password.';
    }
    if (Object.keys(errors).length > 0) {
      res.status(400);
      return this.render(req, res, errors);
    }

    await this.passwords.change(password, `dashboard from ${client}`);
    // change() deleted every session row, this one's too; destroy() also forgets it here.
    req.session.destroy(() => {
      res.clearCookie('postroom.sid');
      res.redirect(303, PASSWORD_CHANGED_LOGIN);
    });
  }

  private render(req: Request, res: Response, errors: FieldErrors): void {
    const fields = ['current', 'password', 'confirm'].filter((name) => errors[name]);
    renderView(req, res, 'pages/account/index', 'fragments/account/password', {
      title: 'Account',
      nav: 'account',
      errors,
      errorCount: fields.length,
      summary: fields.map((name) => ({ name, message: errors[name] })),
      passwordHint: `At least ${MIN_PASSWORD_LENGTH} characters, not the current password, and not all of one kind: mix lower case, upper case, digits, spaces or punctuation. A few unrelated words make a good one.`,
      setByEnvironment: this.passwords.setByEnvironment,
    });
  }
}
