import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppConfig } from '../../src/config/config.schema.js';
import { PgNotifier } from '../../src/database/pg-notifier.js';
import { OAuthTokenService } from '../../src/delivery/oauth/oauth-token.service.js';
import { DEFAULT_OAUTH_URLS } from '../../src/config/oauth-urls.js';
import { sqlOf } from '../../src/database/sql.js';
import { EventLogService } from '../../src/events/event-log.service.js';
import { PrimaryRelayService } from '../../src/relays/primary-relay.service.js';
import { SecretBox } from '../../src/relays/secret-box.js';
import { SettingsService } from '../../src/settings/settings.service.js';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { TokenStub } from '../helpers/oauth-stubs.js';

const CLIENT_SECRET = 'client-secret-' + randomBytes(6).toString('hex');

interface EventRow {
  level: string;
  source: string;
  message: string;
  details: Record<string, unknown>;
}

describe('OAuthTokenService against a token endpoint on loopback (the primary relay in PostgreSQL)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let box: SecretBox;
  let events: EventLogService;
  let notifier: PgNotifier;
  let settings: SettingsService;
  let primary: PrimaryRelayService;
  let tokens: OAuthTokenService;
  let stub: TokenStub;

  beforeAll(async () => {
    ({ ds, close } = await openTestDataSource());
    box = new SecretBox(randomBytes(32));
    events = new EventLogService(sqlOf(ds), silentLogger);
    notifier = new PgNotifier(ds, silentLogger);
  });

  afterAll(async () => {
    await notifier?.onApplicationShutdown();
    await close?.();
  });

  beforeEach(async () => {
    await stub?.stop();
    stub = await new TokenStub().start();
    await ds.query(`DELETE FROM settings`);
    await ds.query(`INSERT INTO settings (id) VALUES (1)`);
    await ds.query(`DELETE FROM relay`);
    await ds.query(`INSERT INTO relay (host, priority) VALUES ('', 0)`);
    await ds.query(`DELETE FROM event`);
    primary = new PrimaryRelayService(ds, box, events, notifier);
    settings = new SettingsService(ds, box, events, notifier, primary);
    tokens = new OAuthTokenService(primary, settings, events, DEFAULT_OAUTH_URLS, { instanceName: 'test' } as AppConfig);
    await settings.update(
      {
        relayHost: '127.0.0.1',
        authEnabled: true,
        authMethod: 'oauth2',
        oauthProvider: 'generic',
        oauthTokenUrl: `${stub.url}/token`,
        oauthClientId: 'postroom',
        oauthClientSecret: CLIENT_SECRET,
        oauthRefreshToken: stub.refreshToken,
        username: 'nas@example.com',
      },
      'test',
    );
  });

  afterAll(() => stub?.stop());

  const eventRows = (): Promise<EventRow[]> => ds.query(`SELECT level, source, message, details FROM event WHERE message NOT LIKE 'Settings changed%' ORDER BY id`);
  const stored = async (): Promise<string | undefined> => (await primary.openSecrets()).secrets.oauthRefreshToken;

  it('stores a refresh token the provider rotates (sealed, with an event that does not show it) and uses it for the next refresh', async () => {
    stub.rotate = true;
    for (let i = 0; i < 3; i++) expect(await tokens.token(true)).toBe(stub.issued.at(-1));
    expect(stub.requests.map((r) => r.refresh_token)).toEqual(stub.refreshTokens.slice(0, 3));
    expect(await stored()).toBe(stub.refreshToken);
    const [row] = (await ds.query(`SELECT oauth_refresh_token_sealed FROM relay WHERE priority = 0`)) as { oauth_refresh_token_sealed: string }[];
    expect(row!.oauth_refresh_token_sealed).not.toContain(stub.refreshToken);
    const rows = await eventRows();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({ level: 'info', source: 'settings', message: expect.stringMatching(/^OAuth refresh token stored by postroom \(rotated by OAuth2 provider at a token refresh\)/), details: { changed: { oauthRefreshToken: '(changed)' } } });
    for (const t of stub.refreshTokens) expect(JSON.stringify(rows)).not.toContain(t);
  });

  it('an answer without a new refresh token leaves the stored one as it is, without an event', async () => {
    const before = (await primary.get()).oauthRefreshTokenSealed;
    stub.rotate = false;
    await tokens.token(true);
    expect((await primary.get()).oauthRefreshTokenSealed).toBe(before);
    expect(await eventRows()).toEqual([]);
  });

  it('a delivery and a test email refreshing at once use the refresh token one after the other, not the old one twice', async () => {
    stub.rotate = true;
    const login = await primary.get();
    const { secrets } = await primary.openSecrets();
    const [delivery, test, again] = await Promise.all([tokens.token(true), tokens.requestOnce(login, secrets, 30), tokens.requestOnce(login, secrets, 30)]);
    expect([delivery, test.answer.accessToken, again.answer.accessToken].sort()).toEqual([...stub.issued].sort());
    expect(stub.requests.map((r) => r.refresh_token)).toEqual(stub.refreshTokens.slice(0, 3));
    expect(await stored()).toBe(stub.refreshToken);
  });

  it('a rotated refresh token that cannot be stored is used from memory, and stored at the next refresh', async () => {
    stub.rotate = true;
    const store = primary.storeOAuthRefreshToken.bind(primary);
    primary.storeOAuthRefreshToken = () => Promise.reject(new Error('database unreachable'));
    await tokens.token(true);
    primary.storeOAuthRefreshToken = store;
    expect(await stored()).toBe(stub.refreshTokens[0]);
    await tokens.token(true);
    expect(stub.requests.map((r) => r.refresh_token)).toEqual(stub.refreshTokens.slice(0, 2));
    expect(await stored()).toBe(stub.refreshToken);
  });

  it('a rotation does not overwrite a refresh token stored meanwhile by someone else', async () => {
    const before = (await primary.get()).oauthRefreshTokenSealed;
    await primary.storeOAuthRefreshToken('entered-by-the-admin', 'admin', 'Authorize with Google');
    expect(await primary.storeOAuthRefreshToken('rotated-from-the-old-one', 'postroom', 'rotated', before)).toBe(false);
    expect(await stored()).toBe('entered-by-the-admin');
    expect((await eventRows()).map((e) => e.message)).toEqual(['OAuth refresh token stored by admin (Authorize with Google)']);
  });

  it('one event per failure episode: the same failure again raises none, another failure one, the recovery one', async () => {
    stub.mode = 'invalid_client';
    for (let i = 0; i < 3; i++) await expect(tokens.token(true)).rejects.toMatchObject({ error: 'invalid_client' });
    expect((await eventRows()).map((e) => e.level)).toEqual(['error']);
    expect(tokens.status()).toMatchObject({ error: 'invalid_client' });

    await stub.stop(); // nothing listens there now: another failure
    await expect(tokens.token(true)).rejects.toMatchObject({ error: 'request_failed' });
    await expect(tokens.token(true)).rejects.toMatchObject({ error: 'request_failed' });
    expect((await eventRows()).map((e) => e.details.error)).toEqual(['invalid_client', 'request_failed']);

    stub = await new TokenStub().start();
    await settings.update({ oauthTokenUrl: `${stub.url}/token`, oauthClientSecret: CLIENT_SECRET, oauthRefreshToken: stub.refreshToken }, 'test');
    await tokens.token(true);
    expect((await eventRows()).map((e) => `${e.level} ${e.message.slice(0, 40)}`)).toEqual([
      expect.stringMatching(/^error OAuth2 token request/),
      expect.stringMatching(/^error OAuth2 token request/),
      expect.stringMatching(/^info OAuth2 token from OAuth2 provider obtai/),
    ]);
    expect(tokens.status()).toBeUndefined();
  });
});
