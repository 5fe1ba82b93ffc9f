import { describe, expect, it, vi } from 'vitest';
import {
  type Alert,
  type ChannelTarget,
  CHANNEL_TYPES,
  channelRequest,
  DEFAULT_WEBHOOK_TEMPLATE,
  jsonLiteral,
  SAMPLE_ALERT,
  separateClosingBraces,
  templateProblem,
  truncate,
} from '../../src/channels/channel-request.js';

const alert: Alert = {
  queueId: '1BCDFGHJK2345678Z',
  subject: 'Disk "sda" failed',
  from: 'smartd@nas.example',
  to: ['admin@example.com', 'ops@example.com'],
  text: 'SMART error on /dev/sda.\nReplace the disk.',
  severity: 'critical',
  host: 'nas.example',
  date: '2025-03-04T05:06:07.000Z',
};

const bodyOf = (target: ChannelTarget, a: Alert = alert) => JSON.parse(channelRequest(target, a).body) as Record<string, any>;

describe('truncate', () => {
  it('leaves a text within the limit alone', () => {
    expect(truncate('hello', 5)).toBe('hello');
  });

  it('cuts to the limit with a visible ellipsis', () => {
    expect(truncate('hello world', 8)).toBe('hello w…');
    expect(truncate('a'.repeat(100), 10)).toHaveLength(10);
  });

  it('never cuts inside a surrogate pair', () => {
    const out = truncate('😀'.repeat(10), 6);
    expect(out).toBe('😀😀…');
    expect(out.isWellFormed()).toBe(true);
  });

  it('counts UTF-8 bytes when asked', () => {
    const out = truncate('é'.repeat(10), 10, { measure: 'utf8' });
    expect(out).toBe('ééé…');
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(10);
  });

  it('never splits an escaped character', () => {
    const escape = (s: string) => s.replace(/&/g, '&amp;');
    expect(truncate('a&b&c&d', 8, { escape })).toBe('a&amp;b…');
  });
});

describe('jsonLiteral', () => {
  it('writes any value as safe JSON', () => {
    expect(jsonLiteral('a"b\\c\nd\u0001\u2028\u2029')).toBe('"a\\"b\\\\c\\nd\\u0001\\u2028\\u2029"');
    expect(jsonLiteral(['x', 'y'])).toBe('["x","y"]');
    expect(jsonLiteral(undefined)).toBe('null');
  });
});

describe('webhook', () => {
  const target: ChannelTarget = { type: 'webhook', url: 'https://hooks.example/in' };

  it('posts the default template with every alert field', () => {
    const req = channelRequest(target, alert);
    expect(req.url).toBe('https://hooks.example/in');
    expect(req.method).toBe('POST');
    expect(req.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(req.body)).toEqual(alert);
  });

  it('uses the default template when the template is empty', () => {
    expect(bodyOf({ ...target, template: '  ' })).toEqual(alert);
  });

  it('renders valid JSON with quotes, backslashes, newlines and U+2028/2029 in the fields', () => {
    const nasty = { ...alert, subject: 'a "quoted" \\ subject\u2028', text: 'line 1\nline 2\r\n\t"x"\u2029 </script>' };
    const req = channelRequest(target, nasty);
    expect(req.body).not.toMatch(/[\u2028\u2029]/);
    expect(JSON.parse(req.body)).toEqual(nasty);
  });

  it('renders a custom template with the json helper', () => {
    const body = bodyOf({ ...target, template: '{"s": {{json subject}}, "n": {{json to}}}' });
    expect(body).toEqual({ s: 'Disk "sda" failed', n: ['admin@example.com', 'ops@example.com'] });
  });

  it('does not HTML-escape', () => {
    const req = channelRequest({ ...target, template: '{"s": "{{host}} & <{{queueId}}>"}' }, alert);
    expect(req.body).toBe('{"s": "nas.example & <1BCDFGHJK2345678Z>"}');
  });

  it('adds the extra headers with lower-case names; they may override content-type', () => {
    const req = channelRequest({ ...target, headers: { 'X-Api-Key': 'k1', Authorization: 'Basic abc' } }, alert);
    expect(req.headers).toEqual({ 'content-type': 'application/json', 'x-api-key': 'k1', authorization: 'Basic abc' });
    const plain = channelRequest({ ...target, headers: { 'Content-Type': 'text/plain' } }, alert);
    expect(plain.headers).toEqual({ 'content-type': 'text/plain' });
  });

  it('gives a template no access to prototypes', () => {
    const template = '{"a": "{{constructor.constructor}}{{__proto__}}{{to.constructor}}{{lookup this "constructor"}}", "b": {{json __proto__}}, "c": {{json constructor}}}';
    expect(bodyOf({ ...target, template })).toEqual({ a: '', b: null, c: null });
  });

  it('never writes to the console from a template', () => {
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m).mockImplementation(() => undefined));
    try {
      expect(channelRequest({ ...target, template: '{"a": "{{log "x" level="error"}}"}' }, alert).body).toBe('{"a": ""}');
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('lets a mustache end right before a JSON brace', () => {
    expect(bodyOf({ ...target, template: '{"a": {"b": {{json host}}}}' })).toEqual({ a: { b: 'nas.example' } });
  });

});

describe('separateClosingBraces', () => {
  it('puts an empty comment between a mustache and a following brace', () => {
    expect(separateClosingBraces('{"n": {{json to}}}')).toBe('{"n": {{json to}}{{!}}}');
    expect(separateClosingBraces('{{a}}}{{b}}}}')).toBe('{{a}}{{!}}}{{b}}{{!}}}}');
  });

  it('leaves triple-stash mustaches, spaced braces and raw blocks alone', () => {
    for (const source of ['{{{subject}}}', '{"s": {{{subject}}}}', '{"n": {{json to}} }', '{{{{raw}}}}{{x}}}{{{{/raw}}}}']) {
      expect(separateClosingBraces(source)).toBe(source);
    }
  });
});

describe('templateProblem', () => {
  it('accepts the default template, an empty one and a good custom one', () => {
    expect(templateProblem(DEFAULT_WEBHOOK_TEMPLATE)).toBeUndefined();
    expect(templateProblem('')).toBeUndefined();
    expect(templateProblem('{"s": {{json subject}}, "n": {{json to}}}')).toBeUndefined();
  });

  it('reports a template that does not compile, on one line', () => {
    const problem = templateProblem('{{#if}}');
    expect(problem).toMatch(/^is not a valid template: Parse error on line 1: Expecting .*got 'EOF'$/);
    expect(problem).not.toContain('\n');
  });

  it('reports a template that fails when rendering', () => {
    expect(templateProblem('{{nope subject}}')).toBe('is not a valid template: Missing helper: "nope"');
  });

  it('reports a template that does not render to JSON', () => {
    expect(templateProblem('hello {{subject}}')).toMatch(/^must render to JSON: /);
    expect(templateProblem('{"s": "{{text}}"}')).toMatch(/^must render to JSON: /);
  });

  it('reports a field written without the json helper, whichever (a quote in a subject would break the JSON or add a key)', () => {
    for (const field of ['subject', 'from', 'host', 'to']) {
      expect(templateProblem(`{"title": "{{${field}}}", "sev": {{json severity}}}`), field).toMatch(/^must render to JSON whatever an alert holds: write each field with the json helper/);
    }
    expect(templateProblem('{"title": {{json subject}}, "to": {{json to}}, "host": {{json host}}}')).toBeUndefined();
  });
});

describe('ntfy', () => {
  const target: ChannelTarget = { type: 'ntfy', url: 'https://ntfy.sh', topic: 'postroom-alerts' };

  it('publishes JSON to the base URL', () => {
    const req = channelRequest(target, alert);
    expect(req.url).toBe('https://ntfy.sh/');
    expect(req.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(req.body)).toEqual({
      topic: 'postroom-alerts',
      title: 'Disk "sda" failed',
      message: 'SMART error on /dev/sda.\nReplace the disk.',
      priority: 5,
      tags: ['rotating_light'],
    });
  });

  it('keeps the base path without doubling its slash', () => {
    expect(channelRequest({ ...target, url: 'https://example.com/ntfy' }, alert).url).toBe('https://example.com/ntfy/');
    expect(channelRequest({ ...target, url: 'https://example.com/ntfy/' }, alert).url).toBe('https://example.com/ntfy/');
  });

  it.each([
    ['critical', 5, 'rotating_light'],
    ['warning', 4, 'warning'],
    ['info', 3, 'information_source'],
  ] as const)('maps %s to priority %i and tag %s', (severity, priority, tag) => {
    const body = bodyOf(target, { ...alert, severity });
    expect(body.priority).toBe(priority);
    expect(body.tags).toEqual([tag]);
  });

  it('sends the token as a bearer token', () => {
    expect(channelRequest({ ...target, token: 'tk_secret' }, alert).headers).toEqual({
      'content-type': 'application/json',
      authorization: 'Bearer tk_secret',
    });
  });

  it('uses the subject as the message when the text is empty', () => {
    expect(bodyOf(target, { ...alert, text: '' }).message).toBe('Disk "sda" failed');
  });

  it('keeps the message within 4096 bytes', () => {
    const message = bodyOf(target, { ...alert, text: 'ü'.repeat(5000) }).message as string;
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(4096);
    expect(message.endsWith('…')).toBe(true);
  });

  it('refuses a channel without a topic', () => {
    expect(() => channelRequest({ type: 'ntfy', url: 'https://ntfy.sh' }, alert)).toThrow(/topic/);
  });
});

describe('gotify', () => {
  const target: ChannelTarget = { type: 'gotify', url: 'https://gotify.example', token: 'AppToken.1' };

  it('posts to /message with the application token', () => {
    const req = channelRequest(target, alert);
    expect(req.url).toBe('https://gotify.example/message');
    expect(req.headers).toEqual({ 'content-type': 'application/json', 'x-gotify-key': 'AppToken.1' });
    expect(JSON.parse(req.body)).toEqual({
      title: 'Disk "sda" failed',
      message: 'SMART error on /dev/sda.\nReplace the disk.',
      priority: 8,
      extras: { 'client::display': { contentType: 'text/plain' } },
    });
  });

  it.each([
    ['https://gotify.example/', 'https://gotify.example/message'],
    ['https://example.com/gotify', 'https://example.com/gotify/message'],
    ['https://example.com/gotify/', 'https://example.com/gotify/message'],
  ])('joins %s to %s', (url, expected) => {
    expect(channelRequest({ ...target, url }, alert).url).toBe(expected);
  });

  it.each([
    ['critical', 8],
    ['warning', 5],
    ['info', 2],
  ] as const)('maps %s to priority %i', (severity, priority) => {
    expect(bodyOf(target, { ...alert, severity }).priority).toBe(priority);
  });
});

describe('slack', () => {
  const target: ChannelTarget = { type: 'slack', url: 'https://hooks.slack.com/services/T/B/X' };

  it('posts a fallback text, a header block and a mrkdwn section', () => {
    const req = channelRequest(target, alert);
    expect(req.url).toBe('https://hooks.slack.com/services/T/B/X');
    expect(req.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(req.body)).toEqual({
      text: '[CRITICAL] Disk "sda" failed on nas.example',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Disk "sda" failed' } },
        { type: 'section', text: { type: 'mrkdwn', text: 'SMART error on /dev/sda.\nReplace the disk.' } },
      ],
    });
  });

  it('escapes &, < and > in mrkdwn so <!here> and <@here> do not ping', () => {
    const body = bodyOf(target, { ...alert, subject: 'R&D <@here>', text: 'Tom & Jerry <@here> <!channel>' });
    expect(body.text).toBe('[CRITICAL] R&amp;D &lt;@here&gt; on nas.example');
    expect(body.blocks[0].text.text).toBe('R&D <@here>');
    expect(body.blocks[1].text.text).toBe('Tom &amp; Jerry &lt;@here&gt; &lt;!channel&gt;');
  });

  it('keeps the header within 150 characters and the section within 3000', () => {
    const body = bodyOf(target, { ...alert, subject: 's'.repeat(500), text: '&'.repeat(5000) });
    expect(body.blocks[0].text.text).toHaveLength(150);
    const section = body.blocks[1].text.text as string;
    expect(section.length).toBeLessThanOrEqual(3000);
    expect(section).toMatch(/^(&amp;)+…$/);
  });
});

describe('mattermost', () => {
  const target: ChannelTarget = { type: 'mattermost', url: 'https://chat.example/hooks/abc' };

  it('posts a markdown heading and the text', () => {
    const req = channelRequest(target, alert);
    expect(req.url).toBe('https://chat.example/hooks/abc');
    expect(JSON.parse(req.body)).toEqual({ text: '#### Disk "sda" failed\nSMART error on /dev/sda.\nReplace the disk.' });
  });

  it('keeps the heading on one line and the text within 16383 characters', () => {
    expect(bodyOf(target, { ...alert, subject: 'two\nlines', text: '' })).toEqual({ text: '#### two lines' });
    const text = bodyOf(target, { ...alert, text: 'x'.repeat(20_000) }).text as string;
    expect(text).toHaveLength(16_383);
    expect(text.endsWith('x…')).toBe(true);
  });

  it('does not let an alert notify the whole channel (@channel, @all, @here)', () => {
    expect(bodyOf(target, { ...alert, subject: '@all disks', text: 'ping @channel and @Here, not @channelled' })).toEqual({
      text: '#### @\u200ball disks\nping @\u200bchannel and @\u200bHere, not @channelled',
    });
  });
});

describe('discord', () => {
  const target: ChannelTarget = { type: 'discord', url: 'https://discord.com/api/webhooks/1/abc' };

  it('posts a content line and an embed, with mentions disabled', () => {
    const req = channelRequest(target, alert);
    expect(req.url).toBe('https://discord.com/api/webhooks/1/abc');
    expect(JSON.parse(req.body)).toEqual({
      content: '[CRITICAL] Disk "sda" failed',
      embeds: [
        {
          title: 'Disk "sda" failed',
          description: 'SMART error on /dev/sda.\nReplace the disk.',
          color: 0xe74c3c,
          timestamp: '2025-03-04T05:06:07.000Z',
          footer: { text: 'nas.example · 1BCDFGHJK2345678Z' },
        },
      ],
      allowed_mentions: { parse: [] },
    });
  });

  it.each([
    ['warning', 0xe67e22],
    ['info', 0x3498db],
  ] as const)('colours %s', (severity, color) => {
    expect(bodyOf(target, { ...alert, severity }).embeds[0].color).toBe(color);
  });

  it('keeps within 2000 / 256 / 4096 characters with a 10,000-character subject and text', () => {
    const body = bodyOf(target, { ...alert, subject: 'S'.repeat(10_000), text: '@everyone '.repeat(1000) });
    expect(body.content).toHaveLength(2000);
    expect(body.embeds[0].title).toHaveLength(256);
    expect(body.embeds[0].description.length).toBeLessThanOrEqual(4096);
    expect(body.embeds[0].description.endsWith('…')).toBe(true);
    expect(body.allowed_mentions).toEqual({ parse: [] });
  });

  it('leaves out a timestamp that is not a date', () => {
    expect(bodyOf(target, { ...alert, date: 'yesterday' }).embeds[0]).not.toHaveProperty('timestamp');
  });
});

describe('teams', () => {
  const target: ChannelTarget = { type: 'teams', url: 'https://prod.example.logic.azure.com/workflows/1' };

  it('posts an Adaptive Card message', () => {
    const req = channelRequest(target, alert);
    expect(req.url).toBe('https://prod.example.logic.azure.com/workflows/1');
    expect(req.headers).toEqual({ 'content-type': 'application/json' });
    expect(JSON.parse(req.body)).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [
              { type: 'TextBlock', text: 'Disk "sda" failed', weight: 'Bolder', size: 'Medium', wrap: true, color: 'Attention' },
              { type: 'TextBlock', text: 'SMART error on /dev/sda.\nReplace the disk.', wrap: true },
              {
                type: 'FactSet',
                facts: [
                  { title: 'Host', value: 'nas.example' },
                  { title: 'Severity', value: 'critical' },
                  { title: 'From', value: 'smartd@nas.example' },
                  { title: 'Queue ID', value: '1BCDFGHJK2345678Z' },
                ],
              },
            ],
          },
        },
      ],
    });
  });

  it.each([
    ['warning', 'Warning'],
    ['info', 'Default'],
  ] as const)('colours the title of a %s alert %s', (severity, color) => {
    expect(bodyOf(target, { ...alert, severity }).attachments[0].content.body[0].color).toBe(color);
  });
});

describe('every type', () => {
  it.each(CHANNEL_TYPES)('%s sends JSON for the sample alert', (type) => {
    const req = channelRequest({ type, url: 'https://svc.example/x', topic: 't', token: 'k' }, SAMPLE_ALERT);
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    expect(() => JSON.parse(req.body)).not.toThrow();
  });

  it('refuses an unknown type', () => {
    expect(() => channelRequest({ type: 'fax' as never, url: 'https://x.example' }, alert)).toThrow(/Unknown channel type/);
  });

  it('has a sample alert for the test button', () => {
    expect(SAMPLE_ALERT.subject).toBe('Postroom test notification');
    expect(SAMPLE_ALERT.severity).toBe('info');
  });
});
