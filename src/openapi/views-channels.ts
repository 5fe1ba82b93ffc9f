import { z } from 'zod';
import { CHANNEL_TYPES } from '../channels/channel-request.js';
import { RULE_WHEN } from '../channels/rule.entity.js';
import { SEVERITIES } from '../common/severity.js';
import { dateTime, whole } from './views-common.js';

/** The answers about notification channels and routing rules (channels/channel.view.ts, rule.view.ts, channel-test.service.ts). */
export function channelViews() {
  const Channel = z
    .strictObject({
      id: z.string().describe("The channel's number (as text)"),
      name: z.string(),
      type: z.enum(CHANNEL_TYPES),
      enabled: z.boolean(),
      url: z.string().describe('The origin of the URL only ("https://hooks.slack.com/…"): the rest is write-only'),
      tokenSet: z.boolean().describe('Whether a token is stored (ntfy, gotify; never shown)'),
      topicSet: z.boolean().describe('Whether an ntfy topic is stored (never shown: on a public server the topic is the password)'),
      headers: z.array(z.string()).describe("webhook: the names of its extra headers (their values are write-only)"),
      template: z.string().nullable().describe('webhook: its Handlebars body template; null = the default'),
      secretsUnreadable: z.boolean().describe('The stored URL and secrets were sealed under another SECRET_KEY: enter them again'),
      health: z
        .strictObject({
          status: z.enum(['healthy', 'failing', 'unknown']).describe('failing: its latest refusal or silence came after its latest success; unknown: never used'),
          lastSuccessAt: dateTime().nullable(),
          lastFailureAt: dateTime().nullable(),
          lastFailureReason: z.string().nullable(),
        })
        .describe('How its latest deliveries went (tests not counted)'),
      updatedAt: dateTime(),
    })
    .describe('A notification channel, never a secret: only whether one is set');
  const RuleMatch = z
    .strictObject({
      sender: z.string().optional().describe('A case-insensitive regular expression on the envelope sender'),
      recipient: z.string().optional().describe('… on any recipient'),
      subject: z.string().optional().describe('… on the subject'),
      severity: z.enum(SEVERITIES).optional().describe('The least severity that matches'),
      client: z.string().optional().describe('A network (CIDR) or address of the SMTP client'),
    })
    .describe('Conditions that must all hold; none: every message');
  const Rule = z
    .strictObject({
      id: z.string(),
      name: z.string(),
      enabled: z.boolean(),
      position: whole().describe('1 = evaluated first'),
      match: RuleMatch,
      channels: z.array(z.string()).describe('The channels it sends to, by id'),
      channelNames: z.array(z.string()),
      when: z.enum(RULE_WHEN).describe('always: a copy beside the mail; undelivered: when mail has not delivered it afterMinutes after it arrived, or bounced it'),
      afterMinutes: whole(),
      updatedAt: dateTime(),
    })
    .describe('A routing rule');
  return {
    Channel,
    ChannelList: z.strictObject({ items: z.array(Channel), nextCursor: z.null().describe('Always null: every channel is on one page') }).describe('Every channel'),
    ChannelDeleted: z.strictObject({ deleted: z.string().describe('The id of the channel removed') }),
    ChannelTestResult: z
      .strictObject({
        ok: z.boolean().describe('Whether the service took it (2xx)'),
        channel: z.string().describe("The channel's name"),
        step: z.enum(['connect', 'response']).describe('connect: no answer (refused, DNS, TLS, timeout); response: the service answered'),
        code: whole().nullable().describe('The HTTP status, null without an answer'),
        reply: z.string().describe('The status line and an excerpt of the answer, or the network error'),
        ms: whole(),
      })
      .describe('What became of a test notification'),
    RuleMatch,
    Rule,
    RuleList: z.strictObject({ items: z.array(Rule), nextCursor: z.null().describe('Always null: every rule is on one page') }).describe('Every rule in the order they are evaluated'),
    RuleDeleted: z.strictObject({ deleted: z.string().describe('The id of the rule removed') }),
  };
}
