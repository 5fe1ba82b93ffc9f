import { describe, expect, it } from 'vitest';
import { secretsInUse } from '../../src/relays/relay-secrets.js';
import { Destination, rebind, relayDestination } from '../../src/relays/secret-binding.js';

const relay: Destination = {
  host: 'smtp.example.com',
  port: null,
  security: 'starttls',
  authEnabled: true,
  authMethod: 'password',
  oauthProvider: 'microsoft',
  oauthTenantId: '',
  oauthTokenUrl: '',
};
const oauth = (changes: Partial<Destination>): Destination => ({ ...relay, authMethod: 'oauth2', ...changes });
const AGAIN = 'was saved for another host: enter the password again for the new host';
const secretAgain = (what: string) => `was saved for another token endpoint or relay: enter the ${what} again for the new one`;

describe('relayDestination: where a relay password goes', () => {
  it('is the host, the effective port and the security mode', () => {
    expect(relayDestination('smtp.example.com', null, 'starttls')).toBe(relayDestination('SMTP.example.com', 587, 'starttls'));
    expect(relayDestination('smtp.example.com', null, 'starttls')).not.toBe(relayDestination('smtp.example.com', 465, 'starttls'));
    expect(relayDestination('smtp.example.com', 587, 'starttls')).not.toBe(relayDestination('smtp.example.com', 587, 'none'));
    expect(relayDestination('smtp.example.com', 587, 'starttls')).not.toBe(relayDestination('smtp.example.org', 587, 'starttls'));
  });
});

describe('secretsInUse: the secrets a relay sends somewhere', () => {
  it.each([
    ['SASL with a password', relay, ['password']],
    ['SASL off', { ...relay, authEnabled: false }, []],
    ['direct delivery', { ...relay, host: '' }, []],
    ['Microsoft 365', oauth({ oauthProvider: 'microsoft' }), ['oauthClientSecret']],
    ['Google', oauth({ oauthProvider: 'google' }), ['oauthClientSecret', 'oauthRefreshToken']],
    ['a Google service account', oauth({ oauthProvider: 'google-service-account' }), ['oauthServiceAccountKey']],
    ['a generic provider', oauth({ oauthProvider: 'generic' }), ['oauthClientSecret', 'oauthRefreshToken']],
  ] as const)('%s', (_name, s, expected) => {
    expect(secretsInUse(s)).toEqual(expected);
  });
});

describe('rebind: which kept secrets may follow a change', () => {
  it('keeps the password while host, effective port and security stay (tlsVerify and the rest do not count)', () => {
    expect(rebind(relay, { ...relay, port: 587, authMethod: 'password' }, ['password'])).toEqual({ reenter: {}, drop: [] });
    expect(rebind({ ...relay, host: 'smtp.example.com' }, { ...relay, host: 'SMTP.EXAMPLE.COM' }, ['password'])).toEqual({ reenter: {}, drop: [] });
  });

  it.each([
    ['another host', { host: 'smtp.example.org' }],
    ['another port', { port: 2525 }],
    ['the default port of another security mode', { security: 'tls' as const }],
    ['another security mode on the same port', { port: 587, security: 'none' as const }],
  ])('asks for the password again for %s', (_name, change) => {
    expect(rebind(relay, { ...relay, ...change }, ['password'])).toEqual({ reenter: { password: AGAIN }, drop: [] });
  });

  it('asks for nothing when the password is given again or cleared in the same change', () => {
    expect(rebind(relay, { ...relay, host: 'smtp.example.org' }, [])).toEqual({ reenter: {}, drop: [] });
  });

  it('drops a password the new settings do not send (SASL off, OAuth2, direct delivery)', () => {
    for (const after of [{ ...relay, port: 2525, authEnabled: false }, oauth({ host: 'smtp.office365.com', oauthTenantId: 'contoso' }), { ...relay, host: '' }]) {
      expect(rebind(relay, after, ['password'])).toEqual({ reenter: {}, drop: ['password'] });
    }
  });

  it('binds OAuth2 secrets to the token endpoint (the tenant for Microsoft, the URL for a generic provider) and to the relay their access token goes to', () => {
    const ms = oauth({ oauthTenantId: 'contoso.onmicrosoft.com' });
    // The access token minted from them is a bearer credential for the mailbox: it goes to the relay it was saved for, or nowhere.
    for (const moved of [{ host: 'smtp.example.org' }, { port: 2525 }, { security: 'none' as const }]) {
      expect(rebind(ms, { ...ms, ...moved }, ['oauthClientSecret']), JSON.stringify(moved)).toEqual({ reenter: { oauthClientSecret: secretAgain('client secret') }, drop: [] });
    }
    expect(rebind(ms, { ...ms, host: 'SMTP.example.com', port: 587 }, ['oauthClientSecret'])).toEqual({ reenter: {}, drop: [] }); // 587: STARTTLS's default
    expect(rebind(ms, { ...ms, oauthTenantId: 'fabrikam.onmicrosoft.com' }, ['oauthClientSecret'])).toEqual({ reenter: { oauthClientSecret: secretAgain('client secret') }, drop: [] });

    const generic = oauth({ oauthProvider: 'generic', oauthTokenUrl: 'https://login.example.com/token' });
    expect(rebind(generic, { ...generic, oauthTokenUrl: 'https://login.example.org/token' }, ['oauthClientSecret', 'oauthRefreshToken'])).toEqual({
      reenter: { oauthClientSecret: secretAgain('client secret'), oauthRefreshToken: secretAgain('refresh token') },
      drop: [],
    });
    expect(rebind(ms, { ...ms, oauthProvider: 'generic', oauthTokenUrl: 'https://login.example.com/token' }, ['oauthClientSecret'])).toEqual({
      reenter: { oauthClientSecret: secretAgain('client secret') },
      drop: [],
    });
  });

  it('lets a change of method or provider keep the secrets of the same token endpoint', () => {
    const google = oauth({ oauthProvider: 'google' });
    expect(rebind(google, { ...google, oauthProvider: 'google-service-account' }, ['oauthServiceAccountKey', 'oauthClientSecret'])).toEqual({ reenter: {}, drop: [] });
    expect(rebind({ ...google, authMethod: 'password' }, google, ['oauthClientSecret', 'oauthRefreshToken'])).toEqual({ reenter: {}, drop: [] });
    const ms = oauth({ oauthTenantId: 'contoso' });
    expect(rebind({ ...ms, authEnabled: false }, ms, ['oauthClientSecret'])).toEqual({ reenter: {}, drop: [] });
  });

  it('drops OAuth2 secrets of another endpoint that the new settings do not send', () => {
    const ms = oauth({ oauthTenantId: 'contoso' });
    expect(rebind(ms, { ...ms, authMethod: 'password', oauthTenantId: 'fabrikam' }, ['oauthClientSecret', 'password'])).toEqual({ reenter: {}, drop: ['oauthClientSecret'] });
    expect(rebind(ms, { ...ms, oauthProvider: 'google-service-account' }, ['oauthClientSecret'])).toEqual({ reenter: {}, drop: ['oauthClientSecret'] });
  });
});
