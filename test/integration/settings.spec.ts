import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDataSource, silentLogger } from '../helpers/db.js';
import { InvalidInput } from '../../src/common/domain-errors.js';
import { errorBody } from '../../src/web/domain-error.filter.js';
import { PgNotifier } from '../../src/database/pg-notifier.js';
import { sqlOf } from '../../src/database/sql.js';
import { EventLogService } from '../../src/events/event-log.service.js';
import { PrimaryRelayService } from '../../src/relays/primary-relay.service.js';
import { RelayHealthService } from '../../src/relays/relay-health.service.js';
import { RelaysService } from '../../src/relays/relays.service.js';
import { SecretBox } from '../../src/relays/secret-box.js';
import { SettingsService } from '../../src/settings/settings.service.js';

const CLEAR = 'Tr0ub4dor&3-horse-battery';

interface EventRow {
  level: string;
  source: string;
  message: string;
  details: { actor: string; changed: Record<string, unknown> };
}

describe('SettingsService.update: the settings row and the primary relay row (real PostgreSQL)', () => {
  let ds: DataSource;
  let close: () => Promise<void>;
  let box: SecretBox;
  let events: EventLogService;
  let notifier: PgNotifier;
  let settings: SettingsService;

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

  /** A service as another instance would have it (nothing cached), with this key. */
  const service = (key: SecretBox = box) => new SettingsService(ds, key, events, notifier, new PrimaryRelayService(ds, key, events, notifier));

  beforeEach(async () => {
    // the migrated defaults (a primary relay without a host), and an empty event log
    await ds.query(`DELETE FROM settings`);
    await ds.query(`INSERT INTO settings (id, updated_at) VALUES (1, now() - interval '1 hour')`);
    await ds.query(`DELETE FROM relay`);
    await ds.query(`INSERT INTO relay (host, priority, updated_at) VALUES ('', 0, now() - interval '1 hour')`);
    await ds.query(`DELETE FROM event`);
    settings = service();
  });

  /** The settings row. */
  async function row(): Promise<Record<string, unknown>> {
    const rows: Record<string, unknown>[] = await ds.query(`SELECT * FROM settings`);
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  /** The primary relay's row: the only row of priority 0. */
  async function primary(): Promise<Record<string, unknown>> {
    const rows: Record<string, unknown>[] = await ds.query(`SELECT * FROM relay WHERE priority = 0`);
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  const both = async () => ({ settings: await row(), primary: await primary() });

  /** The primary relay's secrets in clear, as a fresh instance opens them. */
  const secrets = async (key: SecretBox = box) => (await new PrimaryRelayService(ds, key, events, notifier).openSecrets()).secrets;

  async function eventRows(): Promise<EventRow[]> {
    return ds.query(`SELECT level, source, message, details FROM event ORDER BY id`);
  }

  async function rejection(p: Promise<unknown>): Promise<{ statusCode: number; message: string; fields: Record<string, string> }> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidInput);
    // The body the API answers for it.
    return errorBody(err as InvalidInput) as { statusCode: number; message: string; fields: Record<string, string> };
  }

  /** Relay with SASL on and a password stored. */
  async function withPassword(): Promise<void> {
    await settings.update({ relayHost: 'smtp.example.com', authEnabled: true, username: 'mailer', password: CLEAR }, 'setup');
    await ds.query(`DELETE FROM event`);
  }

  it('starts from the documented defaults', async () => {
    const view = await settings.view();
    expect(view).toMatchObject({
      relayHost: '',
      relayPort: null,
      effectivePort: 587,
      security: 'starttls',
      tlsVerify: true,
      authEnabled: false,
      username: '',
      passwordSet: false,
      hostname: '',
      fromName: 'Postroom',
      fromAddress: '',
      adminAddress: '',
      rewriteFrom: false,
      timeoutSeconds: 30,
      poolSize: 10,
      lifetimeHours: 120,
    });
  });

  it('saves a valid change and writes one event naming exactly the fields that changed, from and to', async () => {
    const before = await settings.view();
    const view = await settings.update(
      { lifetimeHours: 48, relayHost: '  smtp.example.com ', relayPort: 2525, security: 'tls', fromName: 'Postroom', timeoutSeconds: 30 },
      'admin',
    );
    expect(view).toMatchObject({ relayHost: 'smtp.example.com', relayPort: 2525, effectivePort: 2525, security: 'tls', lifetimeHours: 48, fromName: 'Postroom', timeoutSeconds: 30 });
    expect(new Date(view.updatedAt).getTime()).toBeGreaterThan(new Date(before.updatedAt).getTime());

    const r = await row();
    expect(r).toMatchObject({ lifetime_hours: 48, from_name: 'Postroom', timeout_seconds: 30 });
    expect(r).not.toHaveProperty('relay_host');
    const p = await primary();
    expect(p).toMatchObject({ host: 'smtp.example.com', port: 2525, security: 'tls', password_sealed: null, enabled: true });
    // One transaction: both rows carry its time, which the view shows.
    expect((r.updated_at as Date).toISOString()).toBe(view.updatedAt);
    expect((p.updated_at as Date).toISOString()).toBe(view.updatedAt);

    const evs = await eventRows();
    expect(evs).toHaveLength(1);
    expect(evs[0]!.level).toBe('info');
    expect(evs[0]!.source).toBe('settings');
    expect(evs[0]!.message).toMatch(/^Settings changed by admin: /);
    expect(evs[0]!.message.replace('Settings changed by admin: ', '').split(', ').sort()).toEqual(['lifetimeHours', 'relayHost', 'relayPort', 'security']);
    expect(evs[0]!.details).toEqual({
      actor: 'admin',
      changed: {
        relayHost: { from: '', to: 'smtp.example.com' },
        relayPort: { from: null, to: 2525 },
        security: { from: 'starttls', to: 'tls' },
        lifetimeHours: { from: 120, to: 48 },
      },
    });

    // The same service reads its own change, and so does a fresh one (another instance).
    expect(await settings.view()).toEqual(view);
    expect(await service().view()).toEqual(view);
  });

  it('writes no event and changes nothing when every value is already the stored one', async () => {
    const before = await both();
    const view = await settings.update({ relayHost: '', security: 'starttls', poolSize: 10, password: '' }, 'admin');
    expect(view.security).toBe('starttls');
    expect(await both()).toEqual(before);
    expect(await eventRows()).toEqual([]);
  });

  it('rejects invalid input with one reason per bad field, saves nothing and logs nothing', async () => {
    await settings.update({ hostname: 'mx.example.org', poolSize: 20 }, 'setup');
    await ds.query(`DELETE FROM event`);
    const before = await both();

    const response = await rejection(
      settings.update(
        {
          hostname: 'good.example.com', // valid, but must not be saved either
          relayHost: 'not a host!',
          relayPort: 70000,
          security: 'ssl',
          timeoutSeconds: 0,
          poolSize: 2.5,
          fromAddress: 'nobody',
          username: 'a\r\nb',
          password: 42,
          colour: 'blue',
        },
        'admin',
      ),
    );
    expect(response).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Invalid settings: nothing was saved',
      fields: {
        relayHost: 'must be a host name or an IP address (blank for direct delivery)',
        relayPort: 'must be at most 65535',
        security: 'must be one of none, starttls, tls',
        timeoutSeconds: 'must be at least 1',
        poolSize: 'must be a whole number of connections (1-100)',
        fromAddress: 'must be an email address such as alerts@example.com',
        username: 'must not contain line breaks',
        password: 'must be text (empty keeps the stored one) or null to clear it',
        colour: 'is not a setting',
      },
    });
    expect(await both()).toEqual(before);
    expect(await eventRows()).toEqual([]);
    expect((await settings.view()).hostname).toBe('mx.example.org');
  });

  it('rejects a body that is not an object of settings', async () => {
    const before = await both();
    const response = await rejection(settings.update({ relayPort: 'twenty-five' }, 'admin'));
    expect(response.fields).toEqual({ relayPort: 'must be a port number (1-65535) or null for the default' });
    expect(await both()).toEqual(before);
    expect(await eventRows()).toEqual([]);
  });

  it('stores the password sealed, never shows it, and logs only that it changed', async () => {
    const view = await settings.update({ relayHost: 'smtp.example.com', authEnabled: true, username: 'mailer', password: CLEAR }, 'admin');
    expect(view.passwordSet).toBe(true);
    expect(view.authEnabled).toBe(true);
    expect(view.username).toBe('mailer');
    expect(Object.keys(view).filter((k) => /password/i.test(k))).toEqual(['passwordSet']);
    expect(JSON.stringify(view)).not.toContain(CLEAR);
    expect(JSON.stringify(await settings.view())).not.toContain(CLEAR);

    const sealed = (await primary()).password_sealed as string;
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain(CLEAR);
    expect(box.open(sealed)).toBe(CLEAR);
    expect((await secrets()).password).toBe(CLEAR);
    // another key cannot open it
    expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow();

    const evs = await eventRows();
    expect(evs).toHaveLength(1);
    expect(evs[0]!.details).toEqual({
      actor: 'admin',
      changed: {
        relayHost: { from: '', to: 'smtp.example.com' },
        authEnabled: { from: false, to: true },
        username: { from: '', to: 'mailer' },
        password: '(changed)',
      },
    });
    const everything = JSON.stringify(await ds.query(`SELECT * FROM event`));
    expect(everything).not.toContain(CLEAR);
    expect(everything).not.toContain(sealed);
  });

  it('keeps the stored password when the password field is empty', async () => {
    await withPassword();
    const sealed = (await primary()).password_sealed;

    await settings.update({ password: '' }, 'admin');
    expect((await primary()).password_sealed).toBe(sealed);
    expect(await eventRows()).toEqual([]);

    const view = await settings.update({ username: 'mailer2', password: '' }, 'admin');
    expect(view.passwordSet).toBe(true);
    expect((await primary()).password_sealed).toBe(sealed);
    expect((await secrets()).password).toBe(CLEAR);
    const evs = await eventRows();
    expect(evs.map((e) => e.details)).toEqual([{ actor: 'admin', changed: { username: { from: 'mailer', to: 'mailer2' } } }]);
  });

  it('replaces the password with a new one, sealed afresh', async () => {
    await withPassword();
    const sealed = (await primary()).password_sealed;
    await settings.update({ password: 'another secret' }, 'admin');
    const next = (await primary()).password_sealed as string;
    expect(next).not.toBe(sealed);
    expect(box.open(next)).toBe('another secret');
    expect((await secrets()).password).toBe('another secret');
    expect((await eventRows()).map((e) => e.details)).toEqual([{ actor: 'admin', changed: { password: '(changed)' } }]);
  });

  it('clears the password with null, but not while SASL authentication with a relay needs it', async () => {
    await withPassword();
    const before = await both();

    const response = await rejection(settings.update({ password: null }, 'admin'));
    expect(response.fields).toEqual({ password: 'is required when SASL authentication is on' });
    expect(await both()).toEqual(before);
    expect(await eventRows()).toEqual([]);

    const view = await settings.update({ authEnabled: false, password: null }, 'admin');
    expect(view.passwordSet).toBe(false);
    expect((await primary()).password_sealed).toBeNull();
    expect((await secrets()).password).toBeUndefined();
    expect((await eventRows()).map((e) => e.details)).toEqual([
      { actor: 'admin', changed: { authEnabled: { from: true, to: false }, password: '(changed)' } },
    ]);

    // clearing again is no change at all
    await settings.update({ password: null }, 'admin');
    expect(await eventRows()).toHaveLength(1);
  });

  it('refuses SASL authentication with a relay but no username or password (400 on those fields), saving nothing', async () => {
    const before = await both();
    const response = await rejection(settings.update({ relayHost: 'smtp.example.com', authEnabled: true }, 'admin'));
    expect(response).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Invalid settings: nothing was saved',
      fields: { username: 'is required when SASL authentication is on', password: 'is required when SASL authentication is on' },
    });
    expect(await both()).toEqual(before);
    expect(await eventRows()).toEqual([]);

    // with a username but still no password, only the password is missing
    const second = await rejection(settings.update({ relayHost: 'smtp.example.com', authEnabled: true, username: 'mailer', password: '' }, 'admin'));
    expect(second.fields).toEqual({ password: 'is required when SASL authentication is on' });
    expect(await both()).toEqual(before);
    expect(await eventRows()).toEqual([]);
  });

  it('refuses to keep the password for another host, port or security (400 on password), saving nothing', async () => {
    await withPassword();
    const before = await both();
    for (const change of [{ relayHost: 'smtp.example.org' }, { relayPort: 2525 }, { security: 'tls' }, { relayHost: 'smtp.example.org', password: '' }]) {
      const response = await rejection(settings.update(change, 'admin'));
      expect(response.fields).toEqual({ password: 'was saved for another host: enter the password again for the new host' });
    }
    expect(await both()).toEqual(before);
    expect(await eventRows()).toEqual([]);

    // The same effective port, or a new password with the new host, is fine.
    expect((await settings.update({ relayPort: 587, tlsVerify: false }, 'admin')).passwordSet).toBe(true);
    await settings.update({ relayHost: 'smtp.example.org', password: 'for the new host' }, 'admin');
    expect((await secrets()).password).toBe('for the new host');
  });

  it('shows which stored secrets this key cannot open, and leaves them out of the secrets in clear', async () => {
    await withPassword();
    await settings.update({ oauthClientSecret: 'client-secret' }, 'admin');
    await ds.query(`UPDATE relay SET password_sealed = $1 WHERE priority = 0`, [new SecretBox(randomBytes(32)).seal(CLEAR)]);
    expect((await service().view()).secretsUnreadable).toEqual(['password']);
    expect(await new PrimaryRelayService(ds, box, events, notifier).openSecrets()).toEqual({ secrets: { oauthClientSecret: 'client-secret' }, unreadable: ['password'] });
  });

  it('re-seals under the current key what only the legacy key opens, keeping "last changed", and names what no key opens', async () => {
    await withPassword();
    const legacy = randomBytes(32);
    const upgradedBox = new SecretBox(randomBytes(32), legacy);
    const relays = new RelaysService(ds, upgradedBox, events, notifier, new RelayHealthService(ds, events, silentLogger));
    const old = new SecretBox(legacy);
    await ds.query(`UPDATE relay SET password_sealed = $1, oauth_client_secret_sealed = $2 WHERE priority = 0`, [old.seal(CLEAR), new SecretBox(randomBytes(32)).seal('lost')]);
    const before = await primary();

    const named = { key: 'primary', relay: 'smtp.example.com:587' };
    expect(await ds.transaction((tx) => relays.checkSealed(tx))).toEqual({ resealed: [{ ...named, field: 'password' }], unreadable: [{ ...named, field: 'oauthClientSecret' }] });
    const after = await primary();
    expect(after.password_sealed).not.toBe(before.password_sealed);
    expect(() => old.open(after.password_sealed as string)).toThrow();
    expect(after.oauth_client_secret_sealed).toBe(before.oauth_client_secret_sealed);
    expect(after.updated_at).toEqual(before.updated_at);
    expect(await secrets(upgradedBox)).toEqual({ password: CLEAR });

    expect(await ds.transaction((tx) => relays.checkSealed(tx))).toEqual({ resealed: [], unreadable: [{ ...named, field: 'oauthClientSecret' }] });
  });
});
