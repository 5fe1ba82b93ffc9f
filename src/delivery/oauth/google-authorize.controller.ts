import { Controller, Get, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PrimaryRelayService } from '../../relays/primary-relay.service.js';
import { SettingsService } from '../../settings/settings.service.js';
import { OAuthTokenService } from './oauth-token.service.js';
import { newAuthorization } from './pkce.js';
import { GOOGLE_SCOPE } from './providers.js';
import { OAuthError, requestToken } from './token-endpoint.js';

declare module 'express-session' {
  interface SessionData {
    /** A pending "Authorize with Google": its state, PKCE verifier and redirect URI. */
    oauthGoogle?: { state: string; verifier: string; redirectUri: string; at: number };
  }
}

/** How long a started authorization may take. */
const PENDING_MS = 15 * 60_000;

/** The callback address Google sends the browser back to (register it on the OAuth client). */
export function googleRedirectUri(req: Request): string {
  return `${req.protocol}://${req.get('host') ?? 'localhost'}/oauth/google/callback`;
}

/**
 * "Authorize with Google" (behind the login wall, the POST with CSRF): the authorization-code
 * flow with PKCE (S256) and a random state kept in the session. The callback checks the state,
 * exchanges the code at the token endpoint and stores the refresh token sealed.
 */
@Controller('oauth/google')
export class GoogleAuthorizeController {
  constructor(
    private readonly primary: PrimaryRelayService,
    private readonly settings: SettingsService,
    private readonly oauth: OAuthTokenService,
  ) {}

  @Post('authorize')
  async authorize(@Req() req: Request, @Res() res: Response): Promise<void> {
    const s = await this.primary.get();
    if (s.oauthProvider !== 'google' || !s.oauthClientId) {
      res.status(400).type('text/plain').send('Save the provider Google with its OAuth client id and client secret first, then press "Authorize with Google".');
      return;
    }
    const a = newAuthorization();
    const redirectUri = googleRedirectUri(req);
    req.session.oauthGoogle = { state: a.state, verifier: a.verifier, redirectUri, at: Date.now() };
    const url = new URL(this.oauth.urls.googleAuthUrl);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: s.oauthClientId,
      redirect_uri: redirectUri,
      scope: GOOGLE_SCOPE,
      access_type: 'offline',
      prompt: 'consent',
      state: a.state,
      code_challenge: a.challenge,
      code_challenge_method: 'S256',
      ...(s.username ? { login_hint: s.username } : {}),
    }).toString();
    req.session.save(() => res.redirect(303, url.toString()));
  }

  @Get('callback')
  async callback(@Req() req: Request, @Res() res: Response): Promise<void> {
    const pending = req.session.oauthGoogle;
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const code = typeof req.query.code === 'string' ? req.query.code : '';
    if (!pending || !state || state !== pending.state || Date.now() - pending.at > PENDING_MS) {
      res.status(400).type('text/plain').send('This authorization does not match the one started from this session (state mismatch or expired). Nothing was stored. Start again with "Authorize with Google" on the settings page.');
      return;
    }
    delete req.session.oauthGoogle;
    if (typeof req.query.error === 'string' || !code) {
      const error = typeof req.query.error === 'string' ? req.query.error.slice(0, 100) : 'no code';
      res.status(400).type('text/plain').send(`Google did not authorize Postroom (${error}). Nothing was stored.`);
      return;
    }
    const s = await this.primary.get();
    // The stored client secret goes only to the token endpoint it was saved for.
    if (s.oauthProvider !== 'google') {
      res.status(400).type('text/plain').send('The provider is no longer Google: nothing was sent or stored. Save the provider Google and start again.');
      return;
    }
    const { secrets } = await this.primary.openSecrets();
    try {
      const answer = await requestToken(
        this.oauth.urls.googleTokenUrl,
        {
          grant_type: 'authorization_code',
          code,
          code_verifier: pending.verifier,
          client_id: s.oauthClientId,
          client_secret: secrets.oauthClientSecret ?? '',
          redirect_uri: pending.redirectUri,
        },
        { timeoutMs: (await this.settings.get()).timeoutSeconds * 1000 },
      );
      if (!answer.refreshToken) {
        res.status(502).type('text/plain').send('Google answered without a refresh token (the account may have authorized Postroom before: remove its access at myaccount.google.com/permissions and try again). Nothing was stored.');
        return;
      }
      await this.primary.storeOAuthRefreshToken(answer.refreshToken, 'admin', 'Authorize with Google');
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      res.status(502).type('text/plain').send(`The code exchange at Google failed: ${err.reply}. Nothing was stored.`);
      return;
    }
    req.session.save(() => res.redirect(303, '/settings?authorized=google'));
  }
}
