import type { ParameterObject, ReferenceObject, SchemaObject } from '@nestjs/swagger';
import { LINE_KINDS, MAIL_LOG_EVENTS } from '../mail-log/mail-log.service.js';
import { DEFAULT_LIMIT, MAX_LIMIT } from '../common/pagination.js';
import { DEFAULT_TOP, MAX_TOP } from '../reports/reports.service.js';
import { EXAMPLES } from './examples.js';
import { EVENT_LEVELS } from '../events/event.entity.js';
import { MESSAGE_STATES } from '../queue/message.entity.js';
import { ref } from './zod-openapi.js';

/** One answer of an operation: its schema (a component's name) or text, and an example. */
export interface AnswerSpec {
  description: string;
  schema?: string;
  example?: unknown;
  /** Also answers text/plain (the report's ?format=text). */
  text?: { example: string };
}

/** What the document says of one operation beyond what its controller's decorators give. */
export interface OperationSpec {
  operationId: string;
  /** One line: what the call does (the document's summary, the API page's list). */
  summary: string;
  /** The group the document lists it under. */
  tag: string;
  /** No bearer token needed (health). */
  public?: true;
  parameters?: ParameterObject[];
  body?: { schema: string; example: unknown; required?: boolean };
  /** The success answer, by status. */
  ok: Record<number, AnswerSpec>;
  /** The error answers besides 401 (and 413 where there is a body). */
  errors?: Partial<Record<400 | 404 | 409 | 503, string>>;
  /** A 503 with its own shape (readiness). */
  unavailable?: AnswerSpec;
}

const text = (description: string, extra: SchemaObject = {}): SchemaObject => ({ type: 'string', description, ...extra });
const query = (name: string, schema: SchemaObject | ReferenceObject, description: string): ParameterObject => ({ name, in: 'query', required: false, schema, description });
const path = (name: string, schema: SchemaObject, description: string): ParameterObject => ({ name, in: 'path', required: true, schema, description });

const LIST = [
  query('cursor', text('Opaque'), 'The nextCursor of the previous page'),
  query('limit', { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: DEFAULT_LIMIT }, `How many items (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})`),
];
const SINCE_UNTIL = [
  query('since', text('ISO 8601', { format: 'date-time' }), 'Only entries at or after this time'),
  query('until', text('ISO 8601', { format: 'date-time' }), 'Only entries before this time'),
];
const FILTER = { maxLength: 1000 };
const QUEUE_ID = path('id', { type: 'string', pattern: '^[0-9BCDFGHJKLMNPQRSTVWXYZ]{17}$', example: EXAMPLES.queueEntry.id }, 'A queue id (400 when it is not one, 404 when no such message is in the queue)');
const RELAY_ID = path('id', { type: 'string', pattern: '^(primary|[0-9]{1,19})$', example: 'primary' }, "'primary' (the relay of the settings) or a backup's id");

const ROW_ID = (what: string) => path('id', { type: 'string', pattern: '^[0-9]{1,10}$', example: '1' }, `The ${what}'s id (404 when there is no such ${what})`);

const queueAction = (operationId: string, summary: string, done: string): OperationSpec => ({
  operationId,
  summary,
  tag: 'Queue',
  parameters: [QUEUE_ID],
  ok: { 200: { description: done, schema: 'QueueEntry', example: EXAMPLES.queueEntry } },
  errors: { 400: 'Not a queue id', 404: 'No such message in the queue', 409: 'Its state does not allow this action (e.g. the message is being sent)' },
});

/** Every operation of the document, keyed "METHOD /path" as the document names them. */
export const OPERATIONS: Record<string, OperationSpec> = {
  'GET /api/v1/settings': { operationId: 'getSettings', summary: 'Read the settings (the password never: passwordSet instead)', tag: 'Settings', ok: { 200: { description: 'The settings', schema: 'Settings', example: EXAMPLES.settings } } },
  'PUT /api/v1/settings': {
    operationId: 'updateSettings', summary: 'Change the settings: absent fields keep their value; 400 with one reason per field, nothing saved', tag: 'Settings',
    body: { schema: 'SettingsUpdate', example: EXAMPLES.settingsUpdate, required: true },
    ok: { 200: { description: 'Saved: the settings now', schema: 'Settings', example: EXAMPLES.settings } },
    errors: { 400: 'Invalid settings, one reason per field in fields: nothing was saved' },
  },
  'POST /api/v1/settings/test': {
    operationId: 'testSettings', summary: 'Send a test email through the real delivery path; answers the diagnosis', tag: 'Settings',
    body: { schema: 'SettingsTestRequest', example: EXAMPLES.settingsTestRequest, required: true },
    ok: { 200: { description: 'The diagnosis, whether the test succeeded or not', schema: 'TestEmailResult', example: EXAMPLES.testEmailResult } },
    errors: { 400: 'Invalid request (to, settings.<field>, saveIfOk): nothing was sent' },
  },
  'GET /api/v1/settings/presets': { operationId: 'listPresets', summary: 'The relay provider presets', tag: 'Settings', ok: { 200: { description: 'The provider presets', schema: 'ProviderPresetList', example: EXAMPLES.presets } } },
  'GET /api/v1/relays': { operationId: 'listRelays', summary: 'Every relay in the order they are tried (the primary first), with its health', tag: 'Relays', ok: { 200: { description: 'Every relay, the primary first', schema: 'RelayList', example: { items: [EXAMPLES.relay], nextCursor: null } } } },
  'POST /api/v1/relays': {
    operationId: 'createRelay', summary: 'Add a backup relay; 400 with one reason per field, nothing saved', tag: 'Relays',
    body: { schema: 'RelayCreate', example: EXAMPLES.relayCreate, required: true },
    ok: { 201: { description: 'Added: the relay', schema: 'Relay', example: EXAMPLES.relay } },
    errors: { 400: 'Invalid relay, one reason per field in fields: nothing was saved' },
  },
  'GET /api/v1/relays/{id}': { operationId: 'getRelay', summary: 'One relay: \'primary\' or a backup\'s id', tag: 'Relays', parameters: [RELAY_ID], ok: { 200: { description: 'The relay', schema: 'Relay', example: EXAMPLES.relay } }, errors: { 404: 'No such relay' } },
  'PUT /api/v1/relays/{id}': {
    operationId: 'updateRelay', summary: 'Change a backup relay (absent fields keep their value); 409 for the primary', tag: 'Relays',
    parameters: [RELAY_ID],
    body: { schema: 'RelayUpdate', example: EXAMPLES.relayUpdate, required: true },
    ok: { 200: { description: 'Saved: the relay now', schema: 'Relay', example: EXAMPLES.relay } },
    errors: { 400: 'Invalid relay, one reason per field in fields: nothing was saved', 404: 'No such backup relay', 409: 'The primary relay: change it with PUT /api/v1/settings' },
  },
  'DELETE /api/v1/relays/{id}': {
    operationId: 'deleteRelay', summary: 'Remove a backup relay and its health; 409 for the primary', tag: 'Relays',
    parameters: [RELAY_ID],
    ok: { 200: { description: 'Removed', schema: 'RelayDeleted', example: EXAMPLES.relayDeleted } },
    errors: { 404: 'No such backup relay', 409: 'The primary relay cannot be removed' },
  },
  'POST /api/v1/relays/{id}/test': {
    operationId: 'testRelay', summary: 'Send a test email through one relay (primary or backup, enabled or not); answers the diagnosis', tag: 'Relays',
    parameters: [RELAY_ID],
    body: { schema: 'RelayTestRequest', example: EXAMPLES.relayTestRequest, required: true },
    ok: { 200: { description: 'The diagnosis, whether the test succeeded or not', schema: 'TestEmailResult', example: EXAMPLES.testEmailResult } },
    errors: { 400: 'Invalid request (to): nothing was sent', 404: 'No such relay' },
  },
  'GET /api/v1/channels': { operationId: 'listChannels', summary: 'Every channel (secrets only as whether they are set)', tag: 'Channels', ok: { 200: { description: 'Every channel', schema: 'ChannelList', example: { items: [EXAMPLES.channel], nextCursor: null } } } },
  'POST /api/v1/channels': {
    operationId: 'createChannel', summary: 'Add a channel; 400 with one reason per field, nothing saved', tag: 'Channels',
    body: { schema: 'ChannelCreate', example: EXAMPLES.channelCreate, required: true },
    ok: { 201: { description: 'Added: the channel', schema: 'Channel', example: EXAMPLES.channel } },
    errors: { 400: 'Invalid channel, one reason per field in fields: nothing was saved' },
  },
  'GET /api/v1/channels/{id}': { operationId: 'getChannel', summary: 'One channel', tag: 'Channels', parameters: [ROW_ID('channel')], ok: { 200: { description: 'The channel', schema: 'Channel', example: EXAMPLES.channel } }, errors: { 404: 'No such channel' } },
  'PUT /api/v1/channels/{id}': {
    operationId: 'updateChannel', summary: 'Change a channel (absent fields keep their value; null clears a secret)', tag: 'Channels',
    parameters: [ROW_ID('channel')],
    body: { schema: 'ChannelUpdate', example: EXAMPLES.channelUpdate, required: true },
    ok: { 200: { description: 'Saved: the channel now', schema: 'Channel', example: EXAMPLES.channel } },
    errors: { 400: 'Invalid channel, one reason per field in fields (a token or header values kept while the URL moves to another origin must be given again): nothing was saved', 404: 'No such channel' },
  },
  'DELETE /api/v1/channels/{id}': {
    operationId: 'deleteChannel', summary: 'Remove a channel; 409 while a rule sends to it', tag: 'Channels',
    parameters: [ROW_ID('channel')],
    ok: { 200: { description: 'Removed', schema: 'ChannelDeleted', example: EXAMPLES.channelDeleted } },
    errors: { 404: 'No such channel', 409: 'A rule sends to it: the message names the rules' },
  },
  'POST /api/v1/channels/{id}/test': {
    operationId: 'testChannel', summary: 'Send a test notification now (not through the queue) and say how it went: step, HTTP status, reply, time', tag: 'Channels',
    parameters: [ROW_ID('channel')],
    ok: { 200: { description: 'The diagnosis, whether the test succeeded or not', schema: 'ChannelTestResult', example: EXAMPLES.channelTestResult } },
    errors: { 400: 'Its stored secrets cannot be decrypted with this SECRET_KEY', 404: 'No such channel' },
  },
  'GET /api/v1/rules': { operationId: 'listRules', summary: 'Every rule, in the order they are evaluated', tag: 'Rules', ok: { 200: { description: 'Every rule, in the order they are evaluated', schema: 'RuleList', example: { items: [EXAMPLES.rule], nextCursor: null } } } },
  'POST /api/v1/rules': {
    operationId: 'createRule', summary: 'Add a rule (last, or at `position`); 400 with one reason per field, nothing saved', tag: 'Rules',
    body: { schema: 'RuleCreate', example: EXAMPLES.ruleCreate, required: true },
    ok: { 201: { description: 'Added: the rule', schema: 'Rule', example: EXAMPLES.rule } },
    errors: { 400: 'Invalid rule, one reason per field in fields (match.subject for a condition): nothing was saved' },
  },
  'GET /api/v1/rules/{id}': { operationId: 'getRule', summary: 'One rule', tag: 'Rules', parameters: [ROW_ID('rule')], ok: { 200: { description: 'The rule', schema: 'Rule', example: EXAMPLES.rule } }, errors: { 404: 'No such rule' } },
  'PUT /api/v1/rules/{id}': {
    operationId: 'updateRule', summary: 'Change a rule (absent fields keep their value); `position` moves it', tag: 'Rules',
    parameters: [ROW_ID('rule')],
    body: { schema: 'RuleUpdate', example: EXAMPLES.ruleUpdate, required: true },
    ok: { 200: { description: 'Saved: the rule now', schema: 'Rule', example: EXAMPLES.rule } },
    errors: { 400: 'Invalid rule, one reason per field in fields: nothing was saved', 404: 'No such rule' },
  },
  'DELETE /api/v1/rules/{id}': { operationId: 'deleteRule', summary: 'Remove a rule', tag: 'Rules', parameters: [ROW_ID('rule')], ok: { 200: { description: 'Removed', schema: 'RuleDeleted', example: EXAMPLES.ruleDeleted } }, errors: { 404: 'No such rule' } },
  'POST /api/v1/messages': {
    operationId: 'submitMessage', summary: 'Submit a message (from, to, cc, bcc, subject, text, html, severity); 202 with its queue id once committed', tag: 'Messages',
    body: { schema: 'MessageSubmission', example: EXAMPLES.message, required: true },
    ok: { 202: { description: 'Committed to the queue: its queue id', schema: 'MessageAccepted', example: EXAMPLES.messageAccepted } },
    errors: {
      400: 'Invalid message (one reason per field in fields), or a message intake refuses ("Message refused: …"): nothing was queued',
      503: 'The message could not be stored (the database): try again later',
    },
  },
  'GET /api/v1/queue': {
    operationId: 'listQueue', summary: 'List the queue, newest first (filters: state, address, q (text in subject, addresses, queue id, Message-ID); cursor, limit)', tag: 'Queue',
    parameters: [query('state', { type: 'string', enum: [...MESSAGE_STATES] }, 'Only messages in this state'), query('address', text('Part of an address', FILTER), 'Only messages from or to a matching address'), query('q', text('Text to search for', FILTER), 'Only messages with this text in the subject, an address, the queue id or the Message-ID'), ...LIST],
    ok: { 200: { description: 'A page of the queue, newest first', schema: 'QueuePage', example: { items: [EXAMPLES.queueEntry], nextCursor: null } } },
    errors: { 400: 'A bad filter, cursor or limit (named in fields)' },
  },
  'DELETE /api/v1/queue': { operationId: 'deleteQueue', summary: 'Delete every queued, deferred and held message; answers the count', tag: 'Queue', ok: { 200: { description: 'How many queued, deferred and held messages were deleted', schema: 'Count', example: EXAMPLES.count } } },
  'GET /api/v1/queue/counts': { operationId: 'countQueue', summary: 'Count the messages in the queue by state', tag: 'Queue', ok: { 200: { description: 'Messages per state', schema: 'QueueCounts', example: EXAMPLES.queueCounts } } },
  'POST /api/v1/queue/flush': { operationId: 'flushQueue', summary: 'Flush: every deferred message becomes due now (one being sent is tried again at once if that attempt fails); answers the count of the deferred', tag: 'Queue', ok: { 200: { description: 'How many deferred messages became due', schema: 'Count', example: EXAMPLES.count } } },
  'GET /api/v1/queue/{id}': { operationId: 'getQueueEntry', summary: 'One message in the queue', tag: 'Queue', parameters: [QUEUE_ID], ok: { 200: { description: 'The message', schema: 'QueueEntry', example: EXAMPLES.queueEntry } }, errors: { 400: 'Not a queue id', 404: 'No such message in the queue' } },
  'DELETE /api/v1/queue/{id}': {
    operationId: 'deleteQueueEntry', summary: 'Delete one message', tag: 'Queue',
    parameters: [QUEUE_ID],
    ok: { 200: { description: 'Deleted', schema: 'Count', example: { count: 1 } } },
    errors: { 400: 'Not a queue id', 404: 'No such message in the queue', 409: 'The message is being sent' },
  },
  'POST /api/v1/queue/{id}/flush': queueAction('flushQueueEntry', 'Flush one message (due now)', 'Due now: the message'),
  'POST /api/v1/queue/{id}/hold': queueAction('holdQueueEntry', 'Put one message on hold', 'Held: the message'),
  'POST /api/v1/queue/{id}/release': queueAction('releaseQueueEntry', 'Release one message from hold', 'Released: the message'),
  'GET /api/v1/mail-log': {
    operationId: 'listMailLog', summary: 'The mail log, newest first (filters: event, kind, address, q (text in subject, addresses, queue id, Message-ID), queueId, since, until; cursor, limit)', tag: 'Mail log',
    parameters: [
      query('event', { type: 'string', enum: [...MAIL_LOG_EVENTS] }, 'Only entries of this event'),
      query('kind', { type: 'string', pattern: `^(${LINE_KINDS.join('|')}|channel:[1-9][0-9]*)$`, example: 'channel:3' }, "Only mail's entries (mail), only notification channels' (channel), or one channel's (channel:<id>, its recipient)"),
      query('address', text('Part of an address', FILTER), 'Only entries from or to a matching address'),
      query('q', text('Text to search for', FILTER), 'Only entries with this text in the subject, an address, the queue id or the Message-ID'),
      query('queueId', text('A queue id', FILTER), "Only one message's entries"),
      ...SINCE_UNTIL,
      ...LIST,
    ],
    ok: { 200: { description: 'A page of the mail log, newest first', schema: 'MailLogPage', example: { items: [EXAMPLES.mailLogEntry], nextCursor: 'MTA0ODE' } } },
    errors: { 400: 'A bad filter, cursor or limit (named in fields)' },
  },
  'GET /api/v1/events': {
    operationId: 'listEvents', summary: 'The system event log, newest first (filters: level, source, since, until; cursor, limit)', tag: 'Events',
    parameters: [query('level', { type: 'string', enum: [...EVENT_LEVELS] }, 'Only events of this level'), query('source', text('A source such as delivery', FILTER), 'Only events of this source'), ...SINCE_UNTIL, ...LIST],
    ok: { 200: { description: 'A page of the event log, newest first', schema: 'EventPage', example: { items: [EXAMPLES.event], nextCursor: null } } },
    errors: { 400: 'A bad filter, cursor or limit (named in fields)' },
  },
  'GET /api/v1/reports/{day}': {
    operationId: 'getReport', summary: 'The report of one day: today, yesterday or YYYY-MM-DD (JSON; ?format=text for text)', tag: 'Reports',
    parameters: [
      path('day', { type: 'string', pattern: '^(today|yesterday|[0-9]{4}-[0-9]{2}-[0-9]{2})$', example: 'yesterday' }, "today, yesterday or a date YYYY-MM-DD, in the appliance's time zone"),
      query('format', { type: 'string', enum: ['json', 'text'], default: 'json' }, 'json (the default) or text (text/plain)'),
      query('top', { type: 'integer', minimum: 1, maximum: MAX_TOP, default: DEFAULT_TOP }, `How many rows the top lists have (default ${DEFAULT_TOP}, at most ${MAX_TOP})`),
    ],
    ok: { 200: { description: 'The report of the day (text/plain with ?format=text)', schema: 'DailyReport', example: EXAMPLES.report, text: { example: EXAMPLES.reportText } } },
    errors: { 400: 'A bad day, format or top (named in fields)' },
  },
  'GET /healthz': { operationId: 'healthz', summary: 'Liveness: 200 once the process serves', tag: 'Health', public: true, ok: { 200: { description: 'Serving', schema: 'Health', example: EXAMPLES.healthz } } },
  'GET /readyz': {
    operationId: 'readyz',
    summary: 'Readiness: 200 only when the database answers and the SMTP listener is bound, else 503',
    tag: 'Health',
    public: true,
    ok: { 200: { description: 'Ready', schema: 'Readiness', example: EXAMPLES.readyz } },
    unavailable: { description: 'Not ready: what is down', schema: 'Readiness', example: EXAMPLES.unready },
  },
};
