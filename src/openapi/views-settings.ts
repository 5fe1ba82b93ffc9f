import { z } from 'zod';
import { SECRET_FIELDS, type SecretField } from '../relays/relay-secrets.js';
import { type ValueSpec, VALUE_FIELDS, helpText } from '../settings/settings-fields.js';
import { dateTime, whole } from './views-common.js';

const SECURITY = ['none', 'starttls', 'tls'] as const;
const TEST_STEPS = ['dns', 'oauth', 'connect', 'greeting', 'ehlo', 'starttls', 'tls', 'auth', 'mail', 'rcpt', 'data', 'done'] as const;
const TEST_FAILURES = ['oauth_error', 'connection_error', 'timeout', 'tls_error', 'auth_error', 'rejected'] as const;

/** A setting's value as the API shows it, from the field's description (settings-fields.ts). */
function valueSchema(f: Exclude<ValueSpec, { kind: 'secret' }>): z.ZodType {
  const description = [f.label, helpText(f)].filter(Boolean).join(': ');
  switch (f.kind) {
    case 'text':
      return z.string().describe(description);
    case 'number':
      return whole().min(f.min).max(f.max).describe(description);
    case 'port':
      return whole().min(1).max(65535).nullable().describe(description);
    case 'flag':
      return z.boolean().describe(description);
    case 'choice':
      return z.enum(f.choices.map((c) => c.value) as [string, ...string[]]).describe(description);
    case 'aliases':
      return z.record(z.string(), z.array(z.string())).describe(description);
  }
}

/** The settings' and the test email's answers (settings.view.ts, test-email.service.ts, presets.ts). */
export function settingsViews() {
  const values = VALUE_FIELDS.filter((f): f is Exclude<ValueSpec, { kind: 'secret' }> => f.kind !== 'secret').map((f) => [f.name, valueSchema(f)] as const);
  const secrets = SECRET_FIELDS.map((name) => [`${name}Set`, z.boolean().describe(`Whether a ${name} is stored (it is never shown)`)] as const);
  const Settings = z
    .strictObject({
      ...Object.fromEntries([...values, ...secrets]),
      effectivePort: whole().describe('The port the primary relay is reached on (relayPort, or the default of the security mode)'),
      secretsUnreadable: z.array(z.enum(SECRET_FIELDS as [SecretField, ...SecretField[]])).describe('Write-only fields whose stored value this SECRET_KEY cannot decrypt: enter them again'),
      updatedAt: dateTime(),
    })
    .describe('The settings: every value, and of a secret only whether one is set');
  const ProviderPreset = z.strictObject({
    id: z.string().describe('The value of "preset" in PUT /api/v1/settings'),
    name: z.string(),
    host: z.string(),
    port: whole(),
    security: z.enum(SECURITY),
    username: z.string().optional().describe("The provider's username convention, where it has one"),
    note: z.string(),
  });
  const TestEmailResult = z
    .strictObject({
      ok: z.boolean(),
      code: z.enum(TEST_FAILURES).optional().describe('What kind of failure; absent when ok'),
      step: z.enum(TEST_STEPS).describe('The step reached (done when ok), or the one that failed'),
      reply: z.string().describe("The server's last reply line; when the server never answered, the error"),
      elapsedMs: whole(),
      transcript: z.array(z.string()).describe('The SMTP conversation, AUTH payloads and the password redacted'),
      error: z.string().optional().describe('The error message, when it failed'),
      relay: z.string().describe('host:port of the relay, or of the MX host tried last'),
      unsaved: z.boolean().describe('Whether unsaved settings values were tested'),
      saved: z.boolean().optional().describe('With saveIfOk: whether the tested values were saved'),
      settings: Settings.optional().describe('With saveIfOk, once saved: the settings now'),
    })
    .describe('The diagnosis of a test email (200 whether the test succeeded or not)');
  return { Settings, ProviderPreset, ProviderPresetList: z.strictObject({ items: z.array(ProviderPreset) }), TestEmailResult };
}
