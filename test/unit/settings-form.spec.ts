import { describe, expect, it } from 'vitest';
import { changedFields, formToSettingsInput, formValuesFromBody, formValuesFromView } from '../../src/dashboard/pages/settings-form.js';
import { settingsInputSchema } from '../../src/settings/dto/settings-input.js';
import type { SettingsView } from '../../src/settings/settings.view.js';

const fullForm = {
  _csrf: 'token',
  relayHost: ' smtp.example.com ',
  relayPort: '587',
  security: 'starttls',
  tlsVerify: 'on',
  authEnabled: 'on',
  username: 'apikey',
  password: 's3cret',
  hostname: 'mail.example.com',
  fromName: 'Alerts ',
  fromAddress: 'alerts@example.com',
  rewriteFrom: 'on',
  adminAddress: 'admin@example.com',
  timeoutSeconds: '30',
  poolSize: '10',
  lifetimeHours: '120',
  reportEnabled: 'on',
  reportTime: ' 06:30 ',
};

const view: SettingsView = {
  relayHost: 'smtp.example.com',
  relayPort: null,
  effectivePort: 587,
  security: 'starttls',
  tlsVerify: true,
  authEnabled: false,
  username: '',
  passwordSet: true,
  authMethod: 'password',
  oauthProvider: 'microsoft',
  oauthTenantId: '',
  oauthClientId: '',
  oauthClientSecretSet: false,
  oauthRefreshTokenSet: false,
  oauthServiceAccountKeySet: false,
  oauthTokenUrl: '',
  oauthScope: '',
  oauthClientAuth: 'auto',
  hostname: '',
  fromName: 'Postroom',
  fromAddress: '',
  adminAddress: '',
  rewriteFrom: false,
  timeoutSeconds: 30,
  poolSize: 10,
  lifetimeHours: 120,
  delayWarningHours: 0,
  reportEnabled: false,
  reportTime: '07:00',
  heartbeatEnabled: false,
  probeMinutes: 0,
  queueAgeAlarmMinutes: 60,
  heartbeatUrl: '',
  retentionDays: 90,
  stormWindowMinutes: 10,
  stormMaxDuplicates: 3,
  senderRateLimitPerMinute: 0,
  aliases: { root: ["ops@example.com"] },
  secretsUnreadable: [],
  updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('formToSettingsInput', () => {
  it('converts a complete form into a valid update: numbers, booleans, trimmed text, no _csrf', () => {
    const input = formToSettingsInput(fullForm);
    expect(input).toEqual({
      relayHost: 'smtp.example.com',
      relayPort: 587,
      security: 'starttls',
      tlsVerify: true,
      authEnabled: true,
      username: 'apikey',
      password: 's3cret',
      hostname: 'mail.example.com',
      fromName: 'Alerts ',
      fromAddress: 'alerts@example.com',
      rewriteFrom: true,
      adminAddress: 'admin@example.com',
      timeoutSeconds: 30,
      poolSize: 10,
      lifetimeHours: 120,
      reportEnabled: true,
      reportTime: '06:30',
      heartbeatEnabled: false,
    });
    expect(settingsInputSchema.safeParse(input).success).toBe(true);
  });

  it('turns a blank port into null (the default port of the security mode)', () => {
    expect(formToSettingsInput({ relayPort: '  ' }).relayPort).toBeNull();
  });

  it('treats absent checkboxes as off', () => {
    const input = formToSettingsInput({ relayHost: '' });
    expect(input).toMatchObject({ tlsVerify: false, authEnabled: false, rewriteFrom: false, reportEnabled: false });
  });

  it('leaves out a blank password (keep the stored one) and sends null to clear it', () => {
    expect('password' in formToSettingsInput({ password: '' })).toBe(false);
    expect('password' in formToSettingsInput({})).toBe(false);
    expect(formToSettingsInput({ password: '', clearPassword: 'on' }).password).toBeNull();
    expect(formToSettingsInput({ password: 'new', clearPassword: 'on' }).password).toBeNull();
    expect(formToSettingsInput({ password: ' with spaces ' }).password).toBe(' with spaces ');
  });

  it('passes text that is not a whole number on as text, so validation names the field', () => {
    const input = formToSettingsInput({ relayPort: 'abc', timeoutSeconds: '1.5', poolSize: '' });
    expect(input).toMatchObject({ relayPort: 'abc', timeoutSeconds: '1.5', poolSize: '' });
    const parsed = settingsInputSchema.safeParse(input);
    expect(parsed.success).toBe(false);
    const paths = parsed.success ? [] : parsed.error.issues.map((i) => i.path[0]);
    expect(paths).toEqual(expect.arrayContaining(['relayPort', 'timeoutSeconds', 'poolSize']));
  });

  it('keeps out-of-range numbers as numbers (validation says the range)', () => {
    expect(formToSettingsInput({ relayPort: '99999' }).relayPort).toBe(99999);
  });

  it('takes the first value of a repeated field', () => {
    expect(formToSettingsInput({ security: ['tls', 'none'] }).security).toBe('tls');
  });

  it('leaves out text fields the form did not send', () => {
    const input = formToSettingsInput({});
    expect(Object.keys(input).sort()).toEqual(['authEnabled', 'heartbeatEnabled', 'reportEnabled', 'rewriteFrom', 'tlsVerify']);
  });
});

describe('form values', () => {
  it('shows what was posted after an error, never the password', () => {
    const values = formValuesFromBody({ ...fullForm, relayPort: '99999' });
    expect(values.relayPort).toBe('99999');
    expect(values.tlsVerify).toBe('true');
    expect(values).not.toHaveProperty('password');
    expect(JSON.stringify(values)).not.toContain('s3cret');
  });

  it('shows the saved settings as strings (null port as blank, false as unchecked)', () => {
    const values = formValuesFromView(view);
    expect(values).toMatchObject({ relayHost: 'smtp.example.com', relayPort: '', tlsVerify: 'true', authEnabled: '', timeoutSeconds: '30', clearPassword: false });
  });
});

describe('changedFields', () => {
  it('lists the changed fields in form order, with the password when it was set or cleared', () => {
    const after = { ...view, relayHost: 'relay.example.net', security: 'tls' as const, effectivePort: 465 };
    expect(changedFields(view, after, { relayHost: 'relay.example.net', security: 'tls', poolSize: 10 })).toEqual(['relayHost', 'security']);
    expect(changedFields(view, view, { password: 'x' })).toEqual(['password']);
    expect(changedFields(view, { ...view, passwordSet: false }, { password: null })).toEqual(['password']);
    expect(changedFields({ ...view, passwordSet: false }, { ...view, passwordSet: false }, { password: null })).toEqual([]);
  });
});
