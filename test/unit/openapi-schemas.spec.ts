import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { SchemaObject } from '@nestjs/swagger';
import type { EventView } from '../../src/events/event-log.service.js';
import { messageInputSchema } from '../../src/intake/dto/message-input.js';
import type { MailLogView } from '../../src/mail-log/mail-log.service.js';
import type { QueueEntryView } from '../../src/queue/queue.view.js';
import { relayCreateSchema, relayUpdateSchema } from '../../src/relays/relay-input.js';
import type { RelayView } from '../../src/relays/relay.view.js';
import type { DailyReport } from '../../src/reports/report.types.js';
import { settingsInputSchema } from '../../src/settings/dto/settings-input.js';
import { applyPreset, type ProviderPreset } from '../../src/settings/presets.js';
import { toSettingsView } from '../../src/settings/settings.view.js';
import type { SettingsEntity } from '../../src/settings/settings.entity.js';
import type { RelayEntity } from '../../src/relays/relay.entity.js';
import type { TestEmailResult } from '../../src/delivery/test-email.service.js';
import { ERROR_EXAMPLES, EXAMPLES } from '../../src/openapi/examples.js';
import { OPERATIONS } from '../../src/openapi/operations.js';
import { requestSchemas } from '../../src/openapi/requests.js';
import { errorSchema } from '../../src/openapi/views-common.js';
import { logViews } from '../../src/openapi/views-logs.js';
import { queueViews } from '../../src/openapi/views-queue.js';
import { relayViews } from '../../src/openapi/views-relays.js';
import { channelViews } from '../../src/openapi/views-channels.js';
import type { ChannelView } from '../../src/channels/channel.view.js';
import type { RuleView } from '../../src/channels/rule.view.js';
import type { ChannelTestResult } from '../../src/channels/channel-test.service.js';
import { channelCreateSchema, channelUpdateSchema } from '../../src/channels/channel-input.js';
import { ruleCreateSchema, ruleUpdateSchema } from '../../src/channels/rule-input.js';
import { healthViews, reportViews } from '../../src/openapi/views-reports.js';
import { settingsViews } from '../../src/openapi/views-settings.js';
import { componentSchemas } from '../../src/openapi/zod-openapi.js';

const VIEWS = { Error: errorSchema(), ...settingsViews(), ...relayViews(), ...channelViews(), ...queueViews(), ...logViews(), ...reportViews(), ...healthViews() };
type Views = typeof VIEWS;
type Out<K extends keyof Views> = z.output<Views[K]>;

describe('the OpenAPI schemas of the answers', () => {
  it('are the shapes the services answer (a change of a view type fails to compile here)', () => {
    expectTypeOf<Out<'QueueEntry'>>().toEqualTypeOf<QueueEntryView>();
    expectTypeOf<Out<'MailLogEntry'>>().toEqualTypeOf<MailLogView>();
    expectTypeOf<Out<'Event'>>().toEqualTypeOf<EventView>();
    expectTypeOf<Out<'DailyReport'>>().toEqualTypeOf<DailyReport>();
    expectTypeOf<Out<'Relay'>>().toEqualTypeOf<RelayView>();
    expectTypeOf<Out<'Channel'>>().toEqualTypeOf<ChannelView>();
    expectTypeOf<Out<'Rule'>>().toEqualTypeOf<RuleView>();
    expectTypeOf<Out<'ChannelTestResult'>>().toEqualTypeOf<ChannelTestResult>();
    expectTypeOf<Out<'ProviderPreset'>>().toEqualTypeOf<ProviderPreset>();
    // The settings' schema is built from the field table, as the view is: the same keys.
    const view = toSettingsView({ updatedAt: new Date() } as unknown as SettingsEntity, { updatedAt: new Date(), port: null, security: 'none' } as unknown as RelayEntity, []);
    expect(Object.keys(VIEWS.Settings.shape).sort()).toEqual(Object.keys(view).sort());
    expectTypeOf<keyof Out<'TestEmailResult'>>().toEqualTypeOf<keyof TestEmailResult>();
  });

  it('every answer example of every operation is valid under its schema', () => {
    for (const [key, op] of Object.entries(OPERATIONS)) {
      for (const answer of [...Object.values(op.ok), ...(op.unavailable ? [op.unavailable] : [])]) {
        expect(answer.schema, key).toBeDefined();
        const schema = VIEWS[answer.schema as keyof Views];
        expect(schema, `${key}: ${answer.schema}`).toBeDefined();
        const parsed = schema.safeParse(answer.example);
        expect(parsed.success, `${key}: ${parsed.error?.message}`).toBe(true);
      }
    }
    for (const example of Object.values(ERROR_EXAMPLES)) expect(VIEWS.Error.safeParse(example).success).toBe(true);
  });

  it('every request example passes the validation the service applies', () => {
    const withPreset = applyPreset(EXAMPLES.settingsUpdate);
    expect(withPreset.error).toBeUndefined();
    expect(settingsInputSchema.safeParse(withPreset.input).success).toBe(true);
    expect(settingsInputSchema.safeParse(EXAMPLES.settingsTestRequest.settings).success).toBe(true);
    expect(relayCreateSchema.safeParse(EXAMPLES.relayCreate).success).toBe(true);
    expect(relayUpdateSchema.safeParse(EXAMPLES.relayUpdate).success).toBe(true);
    expect(messageInputSchema.safeParse(EXAMPLES.message).success).toBe(true);
    expect(channelCreateSchema.safeParse(EXAMPLES.channelCreate).success).toBe(true);
    expect(channelUpdateSchema.safeParse(EXAMPLES.channelUpdate).success).toBe(true);
    expect(ruleCreateSchema.safeParse(EXAMPLES.ruleCreate).success).toBe(true);
    expect(ruleUpdateSchema.safeParse(EXAMPLES.ruleUpdate).success).toBe(true);
    const bodies = Object.values(OPERATIONS).flatMap((op) => (op.body ? [op.body.schema] : []));
    expect(Object.keys(requestSchemas())).toEqual(expect.arrayContaining(bodies));
  });

  it('derives the request schemas from the zod schemas that validate the requests', () => {
    const requests = requestSchemas();
    const props = (s: SchemaObject | undefined) => s?.properties as Record<string, SchemaObject>;
    // The limits of settings-fields.ts, through dto/settings-input.ts.
    expect(props(requests.SettingsChange).relayPort).toMatchObject({ type: 'integer', minimum: 1, maximum: 65535, nullable: true });
    expect(props(requests.SettingsChange).security).toMatchObject({ type: 'string', enum: ['none', 'starttls', 'tls'] });
    expect(props(requests.SettingsChange).retentionDays).toMatchObject({ type: 'integer', minimum: 1, maximum: 3650 });
    expect(requests.SettingsChange?.additionalProperties).toBe(false);
    expect(props(requests.SettingsUpdate).preset?.enum).toContain('sendgrid');
    expect(props(requests.SettingsChange).preset).toBeUndefined();
    expect(requests.RelayCreate?.required).toEqual(['host']);
    expect(requests.RelayUpdate?.required).toBeUndefined();
    expect(requests.MessageSubmission?.required).toEqual(['to']);
    expect(props(requests.MessageSubmission).subject).toMatchObject({ type: 'string', maxLength: 998 });
    expect(JSON.stringify(requests)).not.toContain('$id');
  });

  it('writes OpenAPI 3.0 schemas: nullable rather than a null member, no $id, references between components', () => {
    const out = componentSchemas({ Relay: VIEWS.Relay, RelayHealth: VIEWS.RelayHealth }, 'output');
    const relay = out.Relay as { properties: Record<string, SchemaObject & { $ref?: string }> };
    expect(relay.properties.health).toEqual({ $ref: '#/components/schemas/RelayHealth' });
    expect(relay.properties.port).toEqual({ type: 'integer', nullable: true, description: expect.any(String) });
    expect(relay.properties.updatedAt).toEqual({ type: 'string', format: 'date-time' });
    expect(JSON.stringify(out)).not.toMatch(/\$id|\$schema|"enum":\[null\]/);
  });
});
