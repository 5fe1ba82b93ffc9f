import { describe, expect, it } from 'vitest';
import { loginProblems } from '../../src/relays/relay-credentials.js';
import type { RelayEntity } from '../../src/relays/relay.entity.js';
import { formToSettingsInput, formValuesFromBody } from '../../src/dashboard/pages/settings-form.js';
import { settingsInputSchema } from '../../src/settings/dto/settings-input.js';

describe('settings form: the OAuth2 fields', () => {
  it('passes the OAuth fields on; secrets only when typed, null with their "clear" box', () => {
    const input = formToSettingsInput({
      authMethod: 'oauth2',
      oauthProvider: 'microsoft',
      oauthTenantId: ' contoso.onmicrosoft.com ',
      oauthClientId: 'cid',
      oauthClientSecret: 'sec',
      oauthRefreshToken: '   ',
      oauthServiceAccountKey: '',
      clearOauthServiceAccountKey: 'on',
      oauthTokenUrl: '',
      oauthScope: '',
    });
    expect(input).toMatchObject({ authMethod: 'oauth2', oauthProvider: 'microsoft', oauthTenantId: 'contoso.onmicrosoft.com', oauthClientId: 'cid', oauthClientSecret: 'sec', oauthServiceAccountKey: null });
    expect('oauthRefreshToken' in input).toBe(false);
    expect(settingsInputSchema.safeParse(input).success).toBe(true);
  });

  it('never shows a secret back after an error', () => {
    const values = formValuesFromBody({ oauthClientSecret: 'sec', clearOauthRefreshToken: 'on', oauthClientId: 'cid' }) as unknown as Record<string, unknown>;
    expect(values).not.toHaveProperty('oauthClientSecret');
    expect(values).toMatchObject({ oauthClientId: 'cid', clearOauthRefreshToken: true, clearOauthClientSecret: false });
  });
});

describe('loginProblems: what each provider needs', () => {
  const s = (over: Partial<RelayEntity>): RelayEntity =>
    ({
      host: 'smtp.office365.com',
      authEnabled: true,
      authMethod: 'oauth2',
      oauthProvider: 'microsoft',
      username: '',
      passwordSealed: null,
      oauthTenantId: '',
      oauthClientId: '',
      oauthClientSecretSealed: null,
      oauthRefreshTokenSealed: null,
      oauthServiceAccountKeySealed: null,
      oauthTokenUrl: '',
      oauthScope: '',
      ...over,
    }) as RelayEntity;

  it('microsoft: mailbox, tenant id, client id, client secret', () => {
    expect(Object.keys(loginProblems(s({}))).sort()).toEqual(['oauthClientId', 'oauthClientSecret', 'oauthTenantId', 'username']);
    expect(loginProblems(s({ username: 'a@b.c', oauthTenantId: 't', oauthClientId: 'c', oauthClientSecretSealed: 'x' }))).toEqual({});
  });

  it('google: client id and secret (the refresh token comes from "Authorize with Google"); service account: the key', () => {
    expect(Object.keys(loginProblems(s({ oauthProvider: 'google', username: 'a@b.c' }))).sort()).toEqual(['oauthClientId', 'oauthClientSecret']);
    expect(Object.keys(loginProblems(s({ oauthProvider: 'google-service-account', username: 'a@b.c' })))).toEqual(['oauthServiceAccountKey']);
  });

  it('generic: token URL and client id; password auth still needs the password; nothing without a relay', () => {
    expect(Object.keys(loginProblems(s({ oauthProvider: 'generic', username: 'a@b.c' }))).sort()).toEqual(['oauthClientId', 'oauthTokenUrl']);
    expect(Object.keys(loginProblems(s({ authMethod: 'password', username: 'a@b.c' })))).toEqual(['password']);
    expect(loginProblems(s({ host: '' }))).toEqual({});
  });
});
