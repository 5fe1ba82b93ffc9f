import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
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
};

const RELAY_FIELDS: Record<string, string> = {
  host: 'Host name or IP address',
  port: 'null: the default port of the security mode (25, 587 or 465)',
  password: 'Write-only: "" keeps the stored one, null clears it',
  priority: 'Lower is tried first: 1-1000 (0 is the primary relay of the settings)',
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
  describe(schemas.RelayCreate, RELAY_FIELDS);
  describe(schemas.RelayUpdate, RELAY_FIELDS);
  schemas.RelayUpdate!.description = 'Any subset of the fields of a relay: what is absent keeps its value';
  return schemas;
}
