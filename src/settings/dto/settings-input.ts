import { z } from 'zod';
import { hasLineBreak, isHostOrAddress, isHostname, isMailbox } from '../../common/address.js';
import { CONTROL_CHARACTERS_REASON, hasControlCharacter } from '../../common/control-characters.js';
import { FieldErrors, fieldErrors } from '../../common/field-errors.js';

const emptyOr = (check: (v: string) => boolean, message: string) =>
  z.string({ error: 'must be text' }).trim().max(320, 'is too long').refine((v) => v === '' || check(v), message);

const secret = (max: number) =>
  z.union([z.string({ error: 'must be text' }).max(max, 'is too long').refine((v) => !hasControlCharacter(v), CONTROL_CHARACTERS_REASON), z.null()], { error: 'must be text (empty keeps the stored one) or null to clear it' });

/** A token endpoint: https, or plain http only on this machine (a local stub or proxy). */
export function isTokenUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.username || url.password) return false;
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/** A Google service account's JSON key: an object with client_email and a PEM private_key. */
export function serviceAccountKeyProblem(value: string): string | undefined {
  let key: unknown;
  try {
    key = JSON.parse(value);
  } catch {
    return 'must be the JSON key file of a service account (it does not parse as JSON)';
  }
  const k = key as { client_email?: unknown; private_key?: unknown };
  if (!k || typeof k !== 'object' || typeof k.client_email !== 'string' || !k.client_email.includes('@')) return 'must be a service account JSON key with "client_email"';
  if (typeof k.private_key !== 'string' || !/-----BEGIN (RSA )?PRIVATE KEY-----/.test(k.private_key)) return 'must be a service account JSON key with a PEM "private_key"';
  return undefined;
}

const plainText = (max: number) =>
  z.string({ error: 'must be text' }).trim().max(max, 'is too long').refine((v) => !hasLineBreak(v), 'must not contain line breaks').refine((v) => !hasControlCharacter(v), CONTROL_CHARACTERS_REASON);

const whole = (min: number, max: number, what: string) =>
  z.number({ error: `must be a whole number of ${what}` }).int(`must be a whole number of ${what}`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

/** A local name as an alias key: what comes before the @ of root@localhost, lower case. */
const ALIAS_NAME = /^[a-z0-9][a-z0-9._+-]{0,63}$/;
const MAX_ALIASES = 200;
const MAX_ALIAS_TARGETS = 20;

/** Aliases: local name → the addresses its mail goes to (full addresses, not at localhost). */
const aliasesSchema = z
  .record(z.string(), z.array(z.string({ error: 'must list addresses as text' }).trim(), { error: 'must map each name to a list of addresses' }), {
    error: 'must be an object of local names, each with a list of addresses',
  })
  .superRefine((aliases, ctx) => {
    const names = Object.keys(aliases);
    if (names.length > MAX_ALIASES) ctx.addIssue({ code: 'custom', message: `has ${names.length} aliases (at most ${MAX_ALIASES})` });
    for (const [name, targets] of Object.entries(aliases)) {
      if (!ALIAS_NAME.test(name)) ctx.addIssue({ code: 'custom', message: `"${name}" is not a local name (lower-case letters, digits and . _ + -, such as root or backup)` });
      else if (targets.length === 0) ctx.addIssue({ code: 'custom', message: `"${name}" needs at least one address` });
      else if (targets.length > MAX_ALIAS_TARGETS) ctx.addIssue({ code: 'custom', message: `"${name}" has ${targets.length} addresses (at most ${MAX_ALIAS_TARGETS})` });
      else {
        const bad = targets.find((t) => !isMailbox(t) || /@localhost$/i.test(t));
        if (bad !== undefined) ctx.addIssue({ code: 'custom', message: `"${name}": "${bad}" is not a full address outside this machine, such as ops@example.com` });
      }
    }
  })
  .transform((aliases) => Object.fromEntries(Object.entries(aliases).map(([name, targets]) => [name, [...new Set(targets)]])));

/** PUT /api/v1/settings: every field optional (what is absent keeps its value). */
export const settingsInputSchema = z
  .object({
    relayHost: emptyOr(isHostOrAddress, 'must be a host name or an IP address (blank for direct delivery)'),
    relayPort: z.union([whole(1, 65535, 'port (1-65535)'), z.null()], { error: 'must be a port number (1-65535) or null for the default' }),
    security: z.enum(['none', 'starttls', 'tls'], { error: 'must be one of none, starttls, tls' }),
    tlsVerify: z.boolean({ error: 'must be true or false' }),
    authEnabled: z.boolean({ error: 'must be true or false' }),
    username: z.string({ error: 'must be text' }).max(256, 'is too long').refine((v) => !hasLineBreak(v), 'must not contain line breaks').refine((v) => !hasControlCharacter(v), CONTROL_CHARACTERS_REASON),
    password: z.union([z.string({ error: 'must be text' }).max(1024, 'is too long').refine((v) => !hasControlCharacter(v), CONTROL_CHARACTERS_REASON), z.null()], { error: 'must be text (empty keeps the stored one) or null to clear it' }),
    authMethod: z.enum(['password', 'oauth2'], { error: 'must be one of password, oauth2' }),
    oauthProvider: z.enum(['microsoft', 'google', 'google-service-account', 'generic'], { error: 'must be one of microsoft, google, google-service-account, generic' }),
    oauthTenantId: plainText(256).refine((v) => v === '' || /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(v), 'must be a directory (tenant) id such as 00000000-0000-0000-0000-000000000000 or contoso.onmicrosoft.com'),
    oauthClientId: plainText(512),
    oauthClientSecret: secret(4096),
    oauthRefreshToken: secret(8192),
    oauthServiceAccountKey: z.union(
      [z.string({ error: 'must be text' }).max(20000, 'is too long').refine((v) => v === '' || serviceAccountKeyProblem(v) === undefined, { error: (i) => serviceAccountKeyProblem(String(i.input)) ?? 'is not valid' }), z.null()],
      { error: 'must be text (empty keeps the stored one) or null to clear it' },
    ),
    oauthTokenUrl: plainText(2000).refine((v) => v === '' || isTokenUrl(v), 'must be an https:// URL (http:// only for 127.0.0.1 or localhost)'),
    oauthScope: plainText(1000),
    oauthClientAuth: z.enum(['auto', 'post', 'basic'], { error: 'must be one of auto, post, basic' }),
    hostname: emptyOr(isHostname, 'must be a host name such as mail.example.com (blank for the machine name)'),
    fromName: z.string({ error: 'must be text' }).max(200, 'is too long').refine((v) => !hasLineBreak(v), 'must not contain line breaks').refine((v) => !hasControlCharacter(v), CONTROL_CHARACTERS_REASON),
    fromAddress: emptyOr(isMailbox, 'must be an email address such as alerts@example.com'),
    adminAddress: emptyOr(isMailbox, 'must be an email address such as admin@example.com'),
    rewriteFrom: z.boolean({ error: 'must be true or false' }),
    timeoutSeconds: whole(1, 600, 'seconds (1-600)'),
    poolSize: whole(1, 100, 'connections (1-100)'),
    lifetimeHours: whole(1, 2400, 'hours (1-2400)'),
    delayWarningHours: whole(0, 2400, 'hours (0-2400, 0 = off)'),
    reportEnabled: z.boolean({ error: 'must be true or false' }),
    reportTime: z.string({ error: 'must be a time such as 07:00' }).trim().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time such as 07:00 (24-hour clock, HH:MM)'),
    retentionDays: whole(1, 3650, 'days (1-3650)'),
    stormWindowMinutes: whole(1, 1440, 'minutes (1-1440)'),
    stormMaxDuplicates: whole(0, 10000, 'messages (0-10000, 0 = off)'),
    senderRateLimitPerMinute: whole(0, 100000, 'messages a minute (0-100000, 0 = no limit)'),
    aliases: aliasesSchema,
  })
  .partial()
  .strict();

export type SettingsInput = z.infer<typeof settingsInputSchema>;

/** One reason per settings field. */
export const settingsFieldErrors = (error: z.ZodError): FieldErrors => fieldErrors(error, { unknown: 'is not a setting' });
