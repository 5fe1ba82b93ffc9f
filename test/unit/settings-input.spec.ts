import { describe, expect, it } from 'vitest';
import { settingsFieldErrors as fieldErrors, settingsInputSchema } from '../../src/settings/dto/settings-input.js';

/** Parses and returns either the data or the field errors, to keep each test a single expectation. */
function check(input: unknown): { ok: true; data: unknown } | { ok: false; errors: Record<string, string> } {
  const r = settingsInputSchema.safeParse(input);
  return r.success ? { ok: true, data: r.data } : { ok: false, errors: fieldErrors(r.error) };
}

describe('settingsInputSchema', () => {
  it('accepts an empty object when nothing is to change', () => {
    expect(check({})).toEqual({ ok: true, data: {} });
  });

  it('accepts a partial update and returns only the given fields', () => {
    expect(check({ relayHost: 'smtp.example.com', relayPort: 587, security: 'starttls' })).toEqual({
      ok: true,
      data: { relayHost: 'smtp.example.com', relayPort: 587, security: 'starttls' },
    });
  });

  it('accepts a complete, valid settings object unchanged', () => {
    const full = {
      relayHost: '[2001:db8::25]',
      relayPort: 465,
      security: 'tls',
      tlsVerify: false,
      authEnabled: true,
      username: 'apikey',
      password: 's3cret',
      hostname: 'appliance.example.com',
      fromName: 'Appliance Alerts',
      fromAddress: 'alerts@example.com',
      adminAddress: 'admin@example.com',
      rewriteFrom: true,
      timeoutSeconds: 600,
      poolSize: 100,
      lifetimeHours: 2400,
    };
    expect(check(full)).toEqual({ ok: true, data: full });
  });

  it('accepts null for relayPort to mean the default port', () => {
    expect(check({ relayPort: null })).toEqual({ ok: true, data: { relayPort: null } });
  });

  it('accepts null for password to clear it and an empty password to keep it', () => {
    expect(check({ password: null })).toEqual({ ok: true, data: { password: null } });
    expect(check({ password: '' })).toEqual({ ok: true, data: { password: '' } });
  });

  it('trims host and address fields and accepts them blank', () => {
    expect(check({ relayHost: '  smtp.example.com  ', hostname: ' ', fromAddress: '', adminAddress: ' admin@example.com ' })).toEqual({
      ok: true,
      data: { relayHost: 'smtp.example.com', hostname: '', fromAddress: '', adminAddress: 'admin@example.com' },
    });
  });

  it('accepts the port and number limits at both ends of their ranges', () => {
    expect(check({ relayPort: 1, timeoutSeconds: 1, poolSize: 1, lifetimeHours: 1 }).ok).toBe(true);
    expect(check({ relayPort: 65535, timeoutSeconds: 600, poolSize: 100, lifetimeHours: 2400 }).ok).toBe(true);
  });

  it('reports unknown keys as "is not a setting", one entry per key', () => {
    expect(check({ relayHost: 'smtp.example.com', colour: 'blue', smtpPassword: 'x' })).toEqual({
      ok: false,
      errors: { colour: 'is not a setting', smtpPassword: 'is not a setting' },
    });
  });

  it('rejects relayPort out of range with the bound in the message', () => {
    expect(check({ relayPort: 0 })).toEqual({ ok: false, errors: { relayPort: 'must be at least 1' } });
    expect(check({ relayPort: 65536 })).toEqual({ ok: false, errors: { relayPort: 'must be at most 65535' } });
  });

  it('rejects a relayPort that is not a whole number or is a string', () => {
    const message = 'must be a port number (1-65535) or null for the default';
    expect(check({ relayPort: 'x' })).toEqual({ ok: false, errors: { relayPort: message } });
    expect(check({ relayPort: '25' })).toEqual({ ok: false, errors: { relayPort: message } });
    expect(check({ relayPort: 2.5 })).toEqual({ ok: false, errors: { relayPort: message } });
  });

  it('rejects an unknown security mode', () => {
    expect(check({ security: 'ssl' })).toEqual({ ok: false, errors: { security: 'must be one of none, starttls, tls' } });
  });

  it('rejects non-boolean flags', () => {
    expect(check({ tlsVerify: 'yes', authEnabled: 1, rewriteFrom: null })).toEqual({
      ok: false,
      errors: { tlsVerify: 'must be true or false', authEnabled: 'must be true or false', rewriteFrom: 'must be true or false' },
    });
  });

  it('rejects a relayHost that is neither a host name nor an IP address', () => {
    const message = 'must be a host name or an IP address (blank for direct delivery)';
    expect(check({ relayHost: 'smtp.example.com:587' })).toEqual({ ok: false, errors: { relayHost: message } });
    expect(check({ relayHost: 'smtp relay' })).toEqual({ ok: false, errors: { relayHost: message } });
  });

  it('rejects a relayHost that is not text or longer than 320 characters', () => {
    expect(check({ relayHost: 25 })).toEqual({ ok: false, errors: { relayHost: 'must be text' } });
    expect(check({ relayHost: 'a'.repeat(321) })).toEqual({ ok: false, errors: { relayHost: 'is too long' } });
  });

  it('rejects a bad hostname, fromAddress and adminAddress with their own messages', () => {
    expect(check({ hostname: 'bad_host', fromAddress: 'alerts', adminAddress: 'admin@' })).toEqual({
      ok: false,
      errors: {
        hostname: 'must be a host name such as mail.example.com (blank for the machine name)',
        fromAddress: 'must be an email address such as alerts@example.com',
        adminAddress: 'must be an email address such as admin@example.com',
      },
    });
  });

  it('rejects line breaks in username and fromName so they cannot inject headers', () => {
    expect(check({ username: 'user\r\n', fromName: 'Bot\nBcc: x@example.com' })).toEqual({
      ok: false,
      errors: { username: 'must not contain line breaks', fromName: 'must not contain line breaks' },
    });
  });

  it('rejects over-long username, password and fromName', () => {
    expect(check({ username: 'u'.repeat(257), password: 'p'.repeat(1025), fromName: 'n'.repeat(201) })).toEqual({
      ok: false,
      errors: { username: 'is too long', password: 'is too long', fromName: 'is too long' },
    });
    expect(check({ username: 'u'.repeat(256), password: 'p'.repeat(1024), fromName: 'n'.repeat(200) }).ok).toBe(true);
  });

  it('rejects a password that is neither text nor null', () => {
    expect(check({ password: 42 })).toEqual({ ok: false, errors: { password: 'must be text (empty keeps the stored one) or null to clear it' } });
  });

  it('rejects numbers out of range, fractional or given as strings', () => {
    expect(check({ timeoutSeconds: 0, poolSize: 101, lifetimeHours: 1.5 })).toEqual({
      ok: false,
      errors: { timeoutSeconds: 'must be at least 1', poolSize: 'must be at most 100', lifetimeHours: 'must be a whole number of hours (1-2400)' },
    });
    expect(check({ timeoutSeconds: '30' })).toEqual({ ok: false, errors: { timeoutSeconds: 'must be a whole number of seconds (1-600)' } });
  });

  it('reports errors of known fields and unknown keys together', () => {
    expect(check({ poolSize: 0, nope: true })).toEqual({ ok: false, errors: { poolSize: 'must be at least 1', nope: 'is not a setting' } });
  });
});

describe('fieldErrors', () => {
  it('keeps only the first message when a field has several issues', () => {
    const r = settingsInputSchema.safeParse({ username: `${'u'.repeat(300)}\n` });
    expect(r.success).toBe(false);
    if (r.success) return;
    // Too long, a line break, and (the same LF) a control character.
    expect(r.error.issues.filter((i) => i.path[0] === 'username')).toHaveLength(3);
    expect(fieldErrors(r.error)).toEqual({ username: 'is too long' });
  });

  it('puts an error of the whole body under "_" when the body is not an object', () => {
    for (const body of [null, [], 'text']) {
      const r = settingsInputSchema.safeParse(body);
      expect(r.success).toBe(false);
      if (r.success) return;
      expect(Object.keys(fieldErrors(r.error))).toEqual(['_']);
    }
  });
});
