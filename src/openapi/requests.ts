import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { channelCreateSchema, channelUpdateSchema } from '../channels/channel-input.js';
import { ruleCreateSchema, ruleUpdateSchema } from '../channels/rule-input.js';
import { messageInputSchema } from '../intake/dto/message-input.js';
import { relayCreateSchema, relayUpdateSchema } from '../relays/relay-input.js';
import { settingsInputSchema } from '../settings/dto/settings-input.js';
import { PROVIDER_PRESETS } from '../settings/presets.js';
import { SETTINGS_FIELDS, helpText } from '../settings/settings-fields.js';
import { componentSchemas } from './zod-openapi.js';

const MESSAGE_FIELDS: Record<string, string> = {
  from: 'The sender address; absent: the From address of the settings',
  fromName: 'The display name of the sender',
  to: 'One address or a list of at most 100',
  cc: 'One address or a list of at most 100',
  bcc: 'One address or a list of at most 100 (kept out of the headers)',
  replyTo: 'The Reply-To address',
  subject: 'One line',
  text: 'The plain-text body (text or html is required)',
  html: 'The HTML body (text or html is required)',
  severity: 'For routing rules and channels: info, warning or critical (sent as the header X-Postroom-Severity)',
};

const RELAY_FIELDS: Record<string, string> = {
  host: 'Host name or IP address',
  port: 'null: the default port of the security mode (25, 587 or 465)',
  password: 'Write-only: "" keeps the stored one, null clears it',
  priority: 'Lower is tried first: 1-1000 (0 is the primary relay of the settings)',
};

const CHANNEL_FIELDS: Record<string, string> = {
  type: 'What the channel posts to, in that service\'s documented format',
  url: 'Write-only (only its origin is shown): the webhook URL; for ntfy and gotify the server\'s base URL',
  token: 'Write-only, ntfy (Bearer token) and gotify (application token; required): null clears it',
  topic: 'Write-only, ntfy only (required): null clears it',
  headers: 'webhook only: extra request headers; their values are write-only',
  template: 'webhook only: a Handlebars template that renders JSON, with subject, from, to, text, severity, host, queueId, date and a json helper ({{json subject}}); empty: the default',
};

const RULE_FIELDS: Record<string, string> = {
  match: 'Conditions that must all hold (none: every message): sender, recipient, subject (case-insensitive regular expressions), severity (the least that matches), client (a network)',
  channels: 'Channel ids, at least one',
  when: 'always: a copy to the channels beside the mail; undelivered: to the channels once mail has not delivered it afterMinutes after it arrived, or bounced it',
  afterMinutes: 'With when: undelivered: 0 = at the first failed attempt',
  position: 'Where it goes in the order (1 = first); the others close up',
};

/** Adds a description to each property named in `descriptions`. */
function describe(schema: SchemaObject | undefined, descriptions: Record<string, string>): void {
  for (const [name, prop] of Object.entries(schema?.properties ?? {})) {
    const text = descriptions[name];
    if (text && !('$ref' in prop)) prop.description = prop.description ? `${text}; ${prop.description}` : text;
  }
}

/**
 * The schemas of request bodies, from the zod schemas that validate them: the settings
 * (dto/settings-input.ts), a relay (relay-input.ts), a message (dto/message-input.ts), and the
 * test emails' requests (test-email.service.ts reads `to`, `settings` and `saveIfOk`).
 */
export function requestSchemas(): Record<string, SchemaObject> {
  const schemas = componentSchemas(
    {
      SettingsChange: settingsInputSchema,
      SettingsTestRequest: z.object({
        to: z.string().describe('Where the test email goes'),
        settings: settingsInputSchema.nullable().optional().describe('Values to test instead of the saved ones (the fields of PUT /api/v1/settings, without preset)'),
        saveIfOk: z.boolean().optional().describe('Save settings when the test succeeds'),
      }),
      RelayTestRequest: z.object({ to: z.string().describe('Where the test email goes') }),
      RelayCreate: relayCreateSchema,
      RelayUpdate: relayUpdateSchema,
      MessageSubmission: messageInputSchema,
      ChannelCreate: channelCreateSchema,
      ChannelUpdate: channelUpdateSchema,
      RuleCreate: ruleCreateSchema,
      RuleUpdate: ruleUpdateSchema,
    },
    'input',
  );
  const settingsDescriptions = Object.fromEntries(
    SETTINGS_FIELDS.map((f) => [f.name, [f.label, helpText(f), f.kind === 'secret' ? 'Write-only: "" keeps the stored value, null clears it.' : ''].filter(Boolean).join(': ')]),
  );
  const change = schemas.SettingsChange!;
  describe(change, settingsDescriptions);
  change.description = 'Any subset of the settings: what is absent keeps its value';
  const preset = SETTINGS_FIELDS.find((f) => f.kind === 'preset')!;
  schemas.SettingsUpdate = {
    ...structuredClone(change),
    description: 'Any subset of the settings: what is absent keeps its value; preset fills relayHost, relayPort and security (a field given explicitly wins)',
    properties: {
      preset: { type: 'string', nullable: true, enum: PROVIDER_PRESETS.map((p) => p.id), description: `${preset.label}: ${helpText(preset)}` },
      ...structuredClone(change.properties),
    },
  };
  describe(schemas.MessageSubmission, MESSAGE_FIELDS);
  schemas.MessageSubmission!.description = 'A message as JSON: at least one recipient (in to, cc or bcc), and text or html';
  for (const name of ['ChannelCreate', 'ChannelUpdate']) describe(schemas[name], CHANNEL_FIELDS);
  schemas.ChannelUpdate!.description = 'Any subset of the fields of a channel: what is absent keeps its value';
  for (const name of ['RuleCreate', 'RuleUpdate']) describe(schemas[name], RULE_FIELDS);
  schemas.RuleUpdate!.description = 'Any subset of the fields of a rule: what is absent keeps its value';
  describe(schemas.RelayCreate, RELAY_FIELDS);
  describe(schemas.RelayUpdate, RELAY_FIELDS);
  schemas.RelayUpdate!.description = 'Any subset of the fields of a relay: what is absent keeps its value';
  return schemas;
}
