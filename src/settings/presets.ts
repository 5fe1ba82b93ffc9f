import type { Security } from '../relays/relay.entity.js';

/**
 * Provider presets: the relay host, port and security of well-known mail services, and what a
 * user needs to know about their credentials. Choosing one fills host, port and security; the
 * username and password stay the user's to type. Values from the providers' own documentation
 * (see ../shared/reference/smtp-provider-settings.md); where a provider offers both, we prefer
 * STARTTLS on 587, except where the provider documents implicit TLS on 465 as the way.
 */
export interface ProviderPreset {
  /** The value of `"preset"` in PUT /api/v1/settings and of the dashboard's Provider select. */
  id: string;
  name: string;
  host: string;
  port: number;
  security: Security;
  /** A username convention where the provider has one (e.g. SendGrid's literal "apikey"). */
  username?: string;
  note: string;
}

/** Amazon SES regions with an SMTP endpoint that users most often pick. */
export const SES_REGIONS: { region: string; label: string }[] = [
  { region: 'us-east-1', label: 'US East (N. Virginia)' },
  { region: 'us-east-2', label: 'US East (Ohio)' },
  { region: 'us-west-1', label: 'US West (N. California)' },
  { region: 'us-west-2', label: 'US West (Oregon)' },
  { region: 'ca-central-1', label: 'Canada (Central)' },
  { region: 'sa-east-1', label: 'South America (São Paulo)' },
  { region: 'eu-west-1', label: 'Europe (Ireland)' },
  { region: 'eu-west-2', label: 'Europe (London)' },
  { region: 'eu-west-3', label: 'Europe (Paris)' },
  { region: 'eu-central-1', label: 'Europe (Frankfurt)' },
  { region: 'eu-north-1', label: 'Europe (Stockholm)' },
  { region: 'eu-south-1', label: 'Europe (Milan)' },
  { region: 'ap-south-1', label: 'Asia Pacific (Mumbai)' },
  { region: 'ap-northeast-1', label: 'Asia Pacific (Tokyo)' },
  { region: 'ap-northeast-2', label: 'Asia Pacific (Seoul)' },
  { region: 'ap-southeast-1', label: 'Asia Pacific (Singapore)' },
  { region: 'ap-southeast-2', label: 'Asia Pacific (Sydney)' },
];

const SES_NOTE =
  'Username and password are SES SMTP credentials (made under "SMTP settings" in the SES console), not your AWS access keys. The From address (or its domain) must be verified in this region; new accounts can only send to verified addresses until production access is granted.';

const APP_PASSWORD = (where: string) => `Username: your full email address. Password: an app password (${where}); your normal password is refused.`;

export const PROVIDER_PRESETS: readonly ProviderPreset[] = [
  {
    id: 'sendgrid',
    name: 'SendGrid',
    host: 'smtp.sendgrid.net',
    port: 587,
    security: 'starttls',
    username: 'apikey',
    note: 'Username: the word "apikey" (literally). Password: an API key with the "Mail Send" permission. The From address must be a verified sender or on an authenticated domain.',
  },
  {
    id: 'mailgun-us',
    name: 'Mailgun (US)',
    host: 'smtp.mailgun.org',
    port: 587,
    security: 'starttls',
    note: 'Username and password: the SMTP credentials of your sending domain (Domain settings → SMTP credentials), e.g. postmaster@mg.example.com. For a domain in the EU region use "Mailgun (EU)".',
  },
  {
    id: 'mailgun-eu',
    name: 'Mailgun (EU)',
    host: 'smtp.eu.mailgun.org',
    port: 587,
    security: 'starttls',
    note: 'Username and password: the SMTP credentials of your sending domain (Domain settings → SMTP credentials), e.g. postmaster@mg.example.com. Only for domains created in the EU region.',
  },
  ...SES_REGIONS.map(({ region, label }) => ({
    id: `ses-${region}`,
    name: `Amazon SES — ${label}`,
    host: `email-smtp.${region}.amazonaws.com`,
    port: 587,
    security: 'starttls' as const,
    note: SES_NOTE,
  })),
  {
    id: 'postmark',
    name: 'Postmark',
    host: 'smtp.postmarkapp.com',
    port: 587,
    security: 'starttls',
    note: 'Username and password: both the Server API token of your Postmark server. The From address must be a confirmed sender signature or on a verified domain.',
  },
  {
    id: 'gmail',
    name: 'Gmail / Google Workspace',
    host: 'smtp.gmail.com',
    port: 587,
    security: 'starttls',
    note: `${APP_PASSWORD('Google account → Security → 2-Step Verification → App passwords; needs 2-Step Verification on')} Gmail rewrites the From address to the account's own unless it is a configured alias. Without a password: Authentication method OAuth2, provider Google (or a Workspace service account).`,
  },
  {
    id: 'outlook',
    name: 'Outlook.com / Hotmail',
    host: 'smtp-mail.outlook.com',
    port: 587,
    security: 'starttls',
    note: APP_PASSWORD('Microsoft account → Security → Advanced security options → App passwords; needs two-step verification on'),
  },
  {
    id: 'office365',
    name: 'Office 365 / Microsoft 365',
    host: 'smtp.office365.com',
    port: 587,
    security: 'starttls',
    note: 'Username: the mailbox\'s full address. "Authenticated SMTP" (SMTP AUTH) must be enabled for that mailbox in the Microsoft 365 admin center; with multi-factor authentication use an app password. The From address must be the mailbox or one it may send as. Basic SMTP AUTH is being retired: prefer Authentication method OAuth2, provider Microsoft 365 (tenant id, client id, client secret).',
  },
  {
    id: 'yahoo',
    name: 'Yahoo Mail',
    host: 'smtp.mail.yahoo.com',
    port: 465,
    security: 'tls',
    note: APP_PASSWORD('Yahoo account → Account security → Generate app password'),
  },
  {
    id: 'icloud',
    name: 'iCloud Mail',
    host: 'smtp.mail.me.com',
    port: 587,
    security: 'starttls',
    note: `${APP_PASSWORD('appleid.apple.com → Sign-In and Security → App-Specific Passwords')} Username: your iCloud address (…@icloud.com, @me.com or @mac.com).`,
  },
  {
    id: 'zoho',
    name: 'Zoho Mail',
    host: 'smtp.zoho.com',
    port: 465,
    security: 'tls',
    note: 'Username: your Zoho Mail address. Password: your Zoho password, or an application-specific password when two-factor authentication is on. Accounts in the EU data center use smtp.zoho.eu, India smtp.zoho.in: change the host after choosing this.',
  },
  {
    id: 'qq',
    name: 'QQ Mail',
    host: 'smtp.qq.com',
    port: 465,
    security: 'tls',
    note: 'Username: your QQ email address. Password: the authorisation code from QQ Mail settings → Account → POP3/SMTP service (turn SMTP on there), not your QQ password.',
  },
  {
    id: '163',
    name: '163 Mail (NetEase)',
    host: 'smtp.163.com',
    port: 465,
    security: 'tls',
    note: 'Username: your 163.com email address. Password: the authorisation code from 163 Mail settings → POP3/SMTP/IMAP (turn SMTP on there), not your account password.',
  },
  {
    id: 'aliyun',
    name: 'Aliyun Enterprise Mail',
    host: 'smtp.mxhichina.com',
    port: 465,
    security: 'tls',
    note: 'Username: your full email address. Password: your mailbox password (or a client-specific password if your administrator requires one).',
  },
];

const BY_ID = new Map(PROVIDER_PRESETS.map((p) => [p.id, p]));

export function findPreset(id: string): ProviderPreset | undefined {
  return BY_ID.get(id.trim().toLowerCase());
}

/** The relay fields a preset fills. */
export function presetFields(p: ProviderPreset): { relayHost: string; relayPort: number; security: Security } {
  return { relayHost: p.host, relayPort: p.port, security: p.security };
}

/**
 * Resolves `"preset"` in a settings input: the preset fills relayHost, relayPort and security,
 * and fields given explicitly in the same input win. Returns the input without `preset`, or a
 * field error naming `preset` when it is not text or not a known preset.
 */
export function applyPreset(raw: unknown): { input: unknown; preset?: ProviderPreset; error?: Record<string, string> } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw) || !('preset' in raw)) return { input: raw };
  const { preset: id, ...rest } = raw as Record<string, unknown>;
  if (id === undefined || id === null || id === '') return { input: rest };
  if (typeof id !== 'string') return { input: rest, error: { preset: 'must be the id of a provider preset (see GET /api/v1/settings/presets)' } };
  const preset = findPreset(id);
  if (!preset) return { input: rest, error: { preset: `is not a known provider preset: "${id.slice(0, 60)}" (see GET /api/v1/settings/presets)` } };
  return { input: { ...presetFields(preset), ...rest }, preset };
}
