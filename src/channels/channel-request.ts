import Handlebars from 'handlebars';
import type { Severity } from '../common/severity.js';

/** The kinds of notification channel Postroom can deliver an alert to. */
export const CHANNEL_TYPES = ['webhook', 'ntfy', 'gotify', 'slack', 'mattermost', 'discord', 'teams'] as const;
/** One of CHANNEL_TYPES. */
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** The fields of an alert a channel shows (and a webhook template may use). */
export interface Alert {
  queueId: string;
  subject: string;
  from: string; // the sender's address
  to: string[]; // the mail recipients
  text: string; // the plain-text body (may be long; may be empty)
  severity: Severity;
  host: string; // the appliance's host name
  date: string; // ISO 8601 time it was received
}

/** A channel as delivery uses it: its type and its settings in clear (url, token, topic and header values are secrets of the caller's). */
export interface ChannelTarget {
  type: ChannelType;
  url: string; // webhook: the URL posted to; ntfy, gotify: the server's base URL; slack, mattermost, discord, teams: the incoming-webhook URL
  token?: string; // ntfy: access token (Authorization: Bearer); gotify: the application token (X-Gotify-Key)
  topic?: string; // ntfy only (required there)
  headers?: Record<string, string>; // webhook only: extra request headers
  template?: string; // webhook only: Handlebars body template; absent/empty = DEFAULT_WEBHOOK_TEMPLATE
}

/** The HTTP request that delivers an alert to a channel. Header names are lower-case. */
export interface ChannelRequest {
  url: string;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  /** The channel's secrets (URL, token, topic, header values): a reply that repeats one is shown without it. */
  secrets?: readonly string[];
}

/** The webhook body when a channel has no template: a JSON object with every Alert field. */
export const DEFAULT_WEBHOOK_TEMPLATE = `{
  "queueId": {{json queueId}},
  "subject": {{json subject}},
  "from": {{json from}},
  "to": {{json to}},
  "text": {{json text}},
  "severity": {{json severity}},
  "host": {{json host}},
  "date": {{json date}}
}`;

/**
 * A sample alert, for validating templates and for a channel's "test" button (callers may put
 * in the real host and the current date). Its text holds a quote and a line break, so a template
 * that writes a field without the json helper fails validation.
 */
export const SAMPLE_ALERT: Alert = Object.freeze({
  queueId: '1BCDFGHJK23456789',
  subject: 'Postroom test notification',
  from: 'postroom@localhost',
  to: ['postmaster@localhost'],
  text: 'This is a "test" notification from Postroom.\nIf you can read it, the channel works.',
  severity: 'info' as const,
  host: 'localhost',
  date: '2025-01-01T00:00:00.000Z',
});

const ELLIPSIS = '…';
/** Made at the first cut, not at start: its ICU data costs about 2 MiB. */
let graphemes: Intl.Segmenter | undefined;
const sizes = {
  utf16: (s: string) => s.length,
  utf8: (s: string) => Buffer.byteLength(s, 'utf8'),
};

/** Options of truncate. */
export interface TruncateOptions {
  /** What `max` counts: UTF-16 code units (what JavaScript and most services count; the default) or UTF-8 bytes. */
  measure?: keyof typeof sizes;
  /** A per-character escape applied to the text; an escaped character is never split. */
  escape?: (s: string) => string;
}

/** `text` (escaped) within `max`, ending in a visible "…" when cut; never cut inside a character or grapheme. */
export function truncate(text: string, max: number, { measure = 'utf16', escape = (s) => s }: TruncateOptions = {}): string {
  const size = sizes[measure];
  const whole = escape(text);
  if (size(whole) <= max) return whole;
  const budget = max - size(ELLIPSIS);
  let out = '';
  let used = 0;
  for (const { segment } of (graphemes ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(text)) {
    const piece = escape(segment);
    used += size(piece);
    if (used > budget) break;
    out += piece;
  }
  return out.trimEnd() + ELLIPSIS;
}

/** `value` as a JSON literal safe anywhere in a JSON text (undefined becomes null; U+2028/2029 escaped). */
export function jsonLiteral(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  return json.replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** Handlebars' own environment for webhook templates; prototype access stays refused (the default). */
const templates = Handlebars.create();
templates.registerHelper('json', (...args: unknown[]) => jsonLiteral(args.length > 1 ? args[0] : undefined));
templates.registerHelper('log', () => ''); // a template never writes to the console

function templateData(alert: Alert): Alert {
  const { queueId, subject, from, to, text, severity, host, date } = alert;
  return { queueId, subject, from, to: [...to], text, severity, host, date };
}

/**
 * Lets a mustache end right before a JSON brace, as in `{"to": {{json to}}}`: Handlebars alone
 * reads `}}}` as the close of a `{{{` mustache, so an empty comment goes in between (`{{json
 * to}}{{!}}}`). The output is unchanged. Templates with raw blocks are left alone.
 */
export function separateClosingBraces(source: string): string {
  if (source.includes('{{{{')) return source;
  return source.replace(/(^|[^{])(\{\{(?!\{)[^{}]*\}\})(?=\})/g, '$1$2{{!}}');
}

function renderTemplate(template: string | undefined, alert: Alert): string {
  const source = template?.trim() ? template : DEFAULT_WEBHOOK_TEMPLATE;
  return templates.compile(separateClosingBraces(source), { noEscape: true })(templateData(alert));
}

/** An error's message on one line, without Handlebars' source excerpt and caret. */
function oneLineMessage(error: unknown): string {
  const lines = (error instanceof Error ? error.message : String(error)).split('\n');
  const caret = lines.findIndex((line) => /^-*\^$/.test(line));
  if (caret > 0) lines.splice(caret - 1, 2);
  return lines.join(' ').replace(/\s+/g, ' ').trim();
}

/** For validation when a channel is saved: undefined when the template compiles and renders (with SAMPLE_ALERT) to valid JSON, else a one-line reason. */
export function templateProblem(template: string): string | undefined {
  for (const alert of [SAMPLE_ALERT, AWKWARD_ALERT]) {
    let rendered: string;
    try {
      rendered = renderTemplate(template, alert);
    } catch (error) {
      return `is not a valid template: ${oneLineMessage(error)}`;
    }
    try {
      JSON.parse(rendered);
    } catch (error) {
      return alert === SAMPLE_ALERT
        ? `must render to JSON: ${oneLineMessage(error)}`
        : `must render to JSON whatever an alert holds: write each field with the json helper, as {{json subject}} (with a quote in the subject: ${oneLineMessage(error)})`;
    }
  }
  return undefined;
}

/**
 * An alert with a quote, a backslash and a line break in every text field an alert's sender
 * controls: a template that writes one of them without the json helper breaks on it (and a
 * subject such as `x","sev":"info` would add a key), so validation renders this one too.
 */
const AWKWARD_ALERT: Alert = Object.freeze({
  ...SAMPLE_ALERT,
  subject: 'pool "tank" \\ degraded\n"sev":"info',
  from: '"cron job"@localhost',
  to: ['"a\\b"@localhost', 'ops@localhost'],
  text: 'line "one"\nline \\ two',
  host: 'nas"\\',
});

const LIMITS = {
  ntfy: { title: 256, messageBytes: 4096 }, // message: the server's default message-size-limit; title: no documented limit
  gotify: { title: 256, message: 32_768 }, // no documented limits: kept to what its clients show
  slack: { header: 150, section: 3000, text: 4000 },
  mattermost: { text: 16_383 },
  discord: { content: 2000, title: 256, description: 4096, footer: 1024 }, // footer kept small: all embed text ≤ 6000
  teams: { title: 256, textBytes: 16_000, fact: 256 }, // the whole card stays under Teams' ~28 KB message limit
} as const;

const NTFY_PRIORITY: Record<Severity, number> = { critical: 5, warning: 4, info: 3 };
const NTFY_TAG: Record<Severity, string> = { critical: 'rotating_light', warning: 'warning', info: 'information_source' };
const GOTIFY_PRIORITY: Record<Severity, number> = { critical: 8, warning: 5, info: 2 };
const DISCORD_COLOR: Record<Severity, number> = { critical: 0xe74c3c, warning: 0xe67e22, info: 0x3498db };
const TEAMS_COLOR: Record<Severity, string> = { critical: 'Attention', warning: 'Warning', info: 'Default' };

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function subjectOf(alert: Alert): string {
  return oneLine(alert.subject) || '(no subject)';
}

/** The alert's text, or its subject when the text is blank (services that require a message). */
function messageOf(alert: Alert): string {
  return alert.text.trim() ? alert.text.trimEnd() : subjectOf(alert);
}

function headline(alert: Alert): string {
  return `[${alert.severity.toUpperCase()}] ${subjectOf(alert)}`;
}

/** `base` with its path's trailing slashes replaced by one and `segment` appended; any fragment dropped. */
function joinPath(base: string, segment: string): string {
  const url = new URL(base);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/${segment}`;
  url.hash = '';
  return url.href;
}

function lowerCaseKeys(headers: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function jsonRequest(url: string, body: unknown, headers: Record<string, string> = {}): ChannelRequest {
  return { url, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: jsonLiteral(body) };
}

/** The caller's headers come last: they may override content-type (e.g. for a receiver that wants another type). */
function webhookRequest(target: ChannelTarget, alert: Alert): ChannelRequest {
  return {
    url: target.url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...lowerCaseKeys(target.headers) },
    body: renderTemplate(target.template, alert),
  };
}

// ntfy docs, "Publish as JSON".
function ntfyRequest(target: ChannelTarget, alert: Alert): ChannelRequest {
  if (!target.topic) throw new Error('An ntfy channel needs a topic');
  const body = {
    topic: target.topic,
    title: truncate(subjectOf(alert), LIMITS.ntfy.title),
    message: truncate(messageOf(alert), LIMITS.ntfy.messageBytes, { measure: 'utf8' }),
    priority: NTFY_PRIORITY[alert.severity],
    tags: [NTFY_TAG[alert.severity]],
  };
  return jsonRequest(joinPath(target.url, ''), body, target.token ? { authorization: `Bearer ${target.token}` } : {});
}

// Gotify API docs, "createMessage" (POST /message) and "Message Extras" (client::display).
function gotifyRequest(target: ChannelTarget, alert: Alert): ChannelRequest {
  const body = {
    title: truncate(subjectOf(alert), LIMITS.gotify.title),
    message: truncate(messageOf(alert), LIMITS.gotify.message),
    priority: GOTIFY_PRIORITY[alert.severity],
    extras: { 'client::display': { contentType: 'text/plain' } },
  };
  return jsonRequest(joinPath(target.url, 'message'), body, target.token ? { 'x-gotify-key': target.token } : {});
}

/** Slack's mrkdwn control characters as the entities Slack documents. */
export function escapeSlack(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Slack docs, "Sending messages using incoming webhooks", "Formatting text for app surfaces" and Block Kit "Header block"/"Section block".
function slackRequest(target: ChannelTarget, alert: Alert): ChannelRequest {
  return jsonRequest(target.url, {
    text: truncate(`${headline(alert)}${alert.host ? ` on ${oneLine(alert.host)}` : ''}`, LIMITS.slack.text, { escape: escapeSlack }),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(subjectOf(alert), LIMITS.slack.header) } },
      { type: 'section', text: { type: 'mrkdwn', text: truncate(messageOf(alert), LIMITS.slack.section, { escape: escapeSlack }) } },
    ],
  });
}

// Mattermost docs, "Incoming webhooks".
/** Mattermost notifies a whole channel for @channel, @all and @here in a post: an alert's text must not (a zero-width space after the @). */
const quietMentions = (s: string): string => s.replace(/@(channel|all|here)\b/gi, '@\u200b$1');

function mattermostRequest(target: ChannelTarget, alert: Alert): ChannelRequest {
  const text = alert.text.trim() ? `\n${alert.text.trimEnd()}` : '';
  return jsonRequest(target.url, { text: truncate(quietMentions(`#### ${subjectOf(alert)}${text}`), LIMITS.mattermost.text) });
}

function isoDate(date: string): string | undefined {
  const time = Date.parse(date);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

// Discord developer docs, "Execute Webhook", "Embed Limits" and "Allowed Mentions Object".
function discordRequest(target: ChannelTarget, alert: Alert): ChannelRequest {
  const embed = {
    title: truncate(subjectOf(alert), LIMITS.discord.title),
    description: truncate(messageOf(alert), LIMITS.discord.description),
    color: DISCORD_COLOR[alert.severity],
    timestamp: isoDate(alert.date),
    footer: { text: truncate(`${oneLine(alert.host)} · ${alert.queueId}`, LIMITS.discord.footer) },
  };
  return jsonRequest(target.url, {
    content: truncate(headline(alert), LIMITS.discord.content),
    embeds: [embed],
    allowed_mentions: { parse: [] },
  });
}

function fact(title: string, value: string) {
  return { title, value: truncate(oneLine(value), LIMITS.teams.fact) };
}

// Microsoft Teams docs, "Create incoming webhooks with Workflows" (an Adaptive Card 1.4 attachment).
function teamsRequest(target: ChannelTarget, alert: Alert): ChannelRequest {
  const body = [
    {
      type: 'TextBlock',
      text: truncate(subjectOf(alert), LIMITS.teams.title),
      weight: 'Bolder',
      size: 'Medium',
      wrap: true,
      color: TEAMS_COLOR[alert.severity],
    },
    { type: 'TextBlock', text: truncate(messageOf(alert), LIMITS.teams.textBytes, { measure: 'utf8' }), wrap: true },
    {
      type: 'FactSet',
      facts: [fact('Host', alert.host), fact('Severity', alert.severity), fact('From', alert.from), fact('Queue ID', alert.queueId)],
    },
  ];
  const content = { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', body };
  return jsonRequest(target.url, {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content }],
  });
}

const BUILDERS: Record<ChannelType, (target: ChannelTarget, alert: Alert) => ChannelRequest> = {
  webhook: webhookRequest,
  ntfy: ntfyRequest,
  gotify: gotifyRequest,
  slack: slackRequest,
  mattermost: mattermostRequest,
  discord: discordRequest,
  teams: teamsRequest,
};

/**
 * The HTTP request that delivers `alert` to the channel `target`. Throws on an ntfy channel
 * without a topic, an ntfy/gotify base URL that does not parse, or a webhook template that does
 * not render (templateProblem catches that when the channel is saved).
 */
export function channelRequest(target: ChannelTarget, alert: Alert): ChannelRequest {
  if (!Object.hasOwn(BUILDERS, target.type)) throw new Error(`Unknown channel type: ${String(target.type)}`);
  return { ...BUILDERS[target.type](target, alert), secrets: channelSecrets(target) };
}

/** What a channel keeps secret, as text a service's reply might repeat (ntfy's answer names the topic, an echo service the headers). */
function channelSecrets(target: ChannelTarget): string[] {
  let path = '';
  try {
    const u = new URL(target.url);
    path = u.pathname + u.search;
  } catch {
    // not a URL: the URL itself is listed all the same
  }
  return [target.url, path, target.token, target.topic, ...Object.values(target.headers ?? {})].filter((v): v is string => typeof v === 'string' && v.length >= 4 && v !== '/');
}
