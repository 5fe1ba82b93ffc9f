import type { SchemaObject } from '@nestjs/swagger';
import { PROVIDER_PRESETS } from './presets.js';
import { SETTINGS_FIELDS, type SettingsFieldSpec, helpText } from './settings-fields.js';

/** One field's JSON schema (OpenAPI 3.0), from its description. */
function propertySchema(f: SettingsFieldSpec): SchemaObject {
  const description = [f.label, helpText(f)].filter(Boolean).join(': ');
  switch (f.kind) {
    case 'text':
      return { type: 'string', description, ...(f.max !== undefined ? { maxLength: f.max } : {}) };
    case 'number':
      return { type: 'integer', description, minimum: f.min, maximum: f.max };
    case 'port':
      return { type: 'integer', nullable: true, description, minimum: 1, maximum: 65535 };
    case 'flag':
      return { type: 'boolean', description };
    case 'choice':
      return { type: 'string', description, enum: f.choices.map((c) => c.value) };
    case 'secret':
      return { type: 'string', nullable: true, writeOnly: true, maxLength: f.max, description: `${description} Write-only: "" keeps the stored value, null clears it.` };
    case 'aliases':
      return { type: 'object', description, additionalProperties: { type: 'array', items: { type: 'string', format: 'email' } } };
    case 'preset':
      return { type: 'string', writeOnly: true, description, enum: PROVIDER_PRESETS.map((p) => p.id) };
  }
}

/** The body of PUT /api/v1/settings: any subset of the fields (what is absent keeps its value). */
export const SETTINGS_BODY_SCHEMA: SchemaObject = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(SETTINGS_FIELDS.map((f) => [f.name, propertySchema(f)])),
};
