import { describe, expect, it } from 'vitest';
import { isHostname } from '../../src/common/address.js';
import { settingsInputSchema } from '../../src/settings/dto/settings-input.js';
import { PROVIDER_PRESETS, SES_REGIONS, applyPreset, findPreset } from '../../src/settings/presets.js';

describe('provider presets', () => {
  it('every preset has a unique id, a valid host, port and security, and a note for users', () => {
    const ids = new Set<string>();
    for (const p of PROVIDER_PRESETS) {
      expect(ids.has(p.id), p.id).toBe(false);
      ids.add(p.id);
      expect(p.id, p.id).toMatch(/^[a-z0-9-]+$/);
      expect(isHostname(p.host) && p.host.includes('.'), p.id).toBe(true);
      expect([25, 465, 587, 2525], p.id).toContain(p.port);
      expect(['starttls', 'tls'], p.id).toContain(p.security);
      // implicit TLS belongs on 465, STARTTLS on 587/25/2525
      expect(p.security === 'tls' ? p.port === 465 : p.port !== 465, p.id).toBe(true);
      expect(p.name.length, p.id).toBeGreaterThan(2);
      expect(p.note.length, p.id).toBeGreaterThan(30);
      // the fields a preset fills pass the settings validation
      expect(settingsInputSchema.safeParse({ relayHost: p.host, relayPort: p.port, security: p.security }).success, p.id).toBe(true);
    }
  });

  it('covers the providers of the product card, SES by region and Mailgun in the US and the EU', () => {
    for (const id of ['sendgrid', 'mailgun-us', 'mailgun-eu', 'postmark', 'gmail', 'outlook', 'office365', 'yahoo', 'icloud', 'zoho', 'qq', '163', 'aliyun']) expect(findPreset(id), id).toBeDefined();
    for (const { region } of SES_REGIONS) expect(findPreset(`ses-${region}`)?.host).toBe(`email-smtp.${region}.amazonaws.com`);
    expect(SES_REGIONS.map((r) => r.region)).toEqual(expect.arrayContaining(['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2']));
  });

  it('has the documented values and the notes users need', () => {
    expect(findPreset('sendgrid')).toMatchObject({ host: 'smtp.sendgrid.net', port: 587, security: 'starttls', username: 'apikey' });
    expect(findPreset('sendgrid')!.note).toMatch(/apikey/);
    expect(findPreset('sendgrid')!.note).toMatch(/API key/);
    expect(findPreset('mailgun-eu')).toMatchObject({ host: 'smtp.eu.mailgun.org', port: 587, security: 'starttls' });
    expect(findPreset('gmail')).toMatchObject({ host: 'smtp.gmail.com', port: 587, security: 'starttls' });
    expect(findPreset('gmail')!.note).toMatch(/app password/i);
    expect(findPreset('outlook')).toMatchObject({ host: 'smtp-mail.outlook.com', port: 587, security: 'starttls' });
    expect(findPreset('office365')).toMatchObject({ host: 'smtp.office365.com', port: 587, security: 'starttls' });
    expect(findPreset('yahoo')).toMatchObject({ host: 'smtp.mail.yahoo.com', port: 465, security: 'tls' });
    expect(findPreset('icloud')).toMatchObject({ host: 'smtp.mail.me.com', port: 587, security: 'starttls' });
    expect(findPreset('icloud')!.note).toMatch(/app-specific/i);
    expect(findPreset('zoho')).toMatchObject({ host: 'smtp.zoho.com', port: 465, security: 'tls' });
    expect(findPreset('qq')).toMatchObject({ host: 'smtp.qq.com', port: 465, security: 'tls' });
    expect(findPreset('qq')!.note).toMatch(/authorisation code/);
    expect(findPreset('163')).toMatchObject({ host: 'smtp.163.com', port: 465, security: 'tls' });
    expect(findPreset('aliyun')).toMatchObject({ host: 'smtp.mxhichina.com', port: 465, security: 'tls' });
    expect(findPreset('postmark')!.note).toMatch(/Server API token/);
    expect(findPreset('ses-eu-west-1')!.note).toMatch(/not your AWS access keys/);
  });

  it('applyPreset fills host, port and security; explicit fields win; unknown → an error naming preset', () => {
    expect(applyPreset({ preset: 'sendgrid' })).toMatchObject({ input: { relayHost: 'smtp.sendgrid.net', relayPort: 587, security: 'starttls' } });
    expect(applyPreset({ preset: 'SendGrid', relayPort: 2525, username: 'apikey' }).input).toEqual({ relayHost: 'smtp.sendgrid.net', relayPort: 2525, security: 'starttls', username: 'apikey' });
    expect(applyPreset({ preset: 'nope' }).error).toEqual({ preset: expect.stringMatching(/not a known provider preset: "nope"/) });
    expect(applyPreset({ preset: 7 }).error).toHaveProperty('preset');
    expect(applyPreset({ preset: '', fromName: 'x' })).toEqual({ input: { fromName: 'x' } });
    expect(applyPreset({ fromName: 'x' })).toEqual({ input: { fromName: 'x' } });
  });
});
