import { describe, expect, it } from 'vitest';
import { type MatchFacts, type RuleMatch, compileMatch, matchProblems } from '../../src/channels/rule-match.js';

const facts: MatchFacts = {
  sender: 'cron@nas.example.net',
  recipients: ['admin@example.com', 'ops@alerts.example.org'],
  subject: '[nas] RAID array degraded: disk 3 failing',
  severity: 'warning',
  clientAddress: '192.168.1.20',
};

function matches(m: RuleMatch, f: Partial<MatchFacts> = {}): boolean {
  return compileMatch(m).test({ ...facts, ...f });
}

describe('compileMatch', () => {
  it('matches every message with an empty match', () => {
    expect(matches({})).toBe(true);
    expect(matches({}, { clientAddress: null, severity: 'info' })).toBe(true);
  });

  it('matches the sender', () => {
    expect(matches({ sender: '^cron@' })).toBe(true);
    expect(matches({ sender: '^root@' })).toBe(false);
  });

  it('matches when any recipient matches', () => {
    expect(matches({ recipient: '@alerts\\.example\\.org$' })).toBe(true);
    expect(matches({ recipient: '^admin@' })).toBe(true);
    expect(matches({ recipient: '@example\\.net$' })).toBe(false);
    expect(matches({ recipient: '.' }, { recipients: [] })).toBe(false);
  });

  it('matches the subject', () => {
    expect(matches({ subject: 'disk \\d+ (failing|failed)' })).toBe(true);
    expect(matches({ subject: 'backup completed' })).toBe(false);
  });

  it('ignores case in patterns and texts', () => {
    expect(matches({ sender: '^CRON@NAS\\.' })).toBe(true);
    expect(matches({ subject: 'raid ARRAY Degraded' })).toBe(true);
    expect(matches({ recipient: '^admin@example\\.com$' }, { recipients: ['Admin@Example.COM'] })).toBe(true);
    expect(matches({ subject: 'échec' }, { subject: 'Sauvegarde : ÉCHEC' })).toBe(true);
  });

  it('matches a severity as a minimum', () => {
    const warning = compileMatch({ severity: 'warning' });
    expect(warning.test({ ...facts, severity: 'info' })).toBe(false);
    expect(warning.test({ ...facts, severity: 'warning' })).toBe(true);
    expect(warning.test({ ...facts, severity: 'critical' })).toBe(true);
    expect(matches({ severity: 'info' }, { severity: 'info' })).toBe(true);
    expect(matches({ severity: 'critical' }, { severity: 'warning' })).toBe(false);
  });

  it('matches an IPv4 network', () => {
    const lan = compileMatch({ client: '192.168.1.0/24' });
    expect(lan.test({ ...facts, clientAddress: '192.168.1.20' })).toBe(true);
    expect(lan.test({ ...facts, clientAddress: '192.168.2.20' })).toBe(false);
    expect(lan.test({ ...facts, clientAddress: 'fd00::20' })).toBe(false);
  });

  it('matches an IPv4-mapped IPv6 client against an IPv4 network', () => {
    expect(matches({ client: '192.168.1.0/24' }, { clientAddress: '::ffff:192.168.1.5' })).toBe(true);
    expect(matches({ client: '192.168.1.0/24' }, { clientAddress: '::ffff:10.0.0.5' })).toBe(false);
  });

  it('matches an IPv6 network', () => {
    const ula = compileMatch({ client: 'fd00::/8' });
    expect(ula.test({ ...facts, clientAddress: 'fd12:3456::25' })).toBe(true);
    expect(ula.test({ ...facts, clientAddress: 'fe80::1' })).toBe(false);
    expect(ula.test({ ...facts, clientAddress: '192.168.1.20' })).toBe(false);
  });

  it('matches a single address', () => {
    expect(matches({ client: '192.168.1.20' })).toBe(true);
    expect(matches({ client: '192.168.1.21' })).toBe(false);
    expect(matches({ client: '::1' }, { clientAddress: '::1' })).toBe(true);
  });

  it('never matches a client rule for a message without a client address', () => {
    expect(matches({ client: '0.0.0.0/0' }, { clientAddress: null })).toBe(false);
    expect(matches({ client: '::/0' }, { clientAddress: null })).toBe(false);
    expect(matches({ sender: '^cron@' }, { clientAddress: null })).toBe(true);
  });

  it('requires every field given to hold', () => {
    const rule: RuleMatch = { sender: '^cron@', recipient: '^ops@', subject: 'degraded', severity: 'warning', client: '192.168.0.0/16' };
    expect(matches(rule)).toBe(true);
    expect(matches(rule, { sender: 'root@nas.example.net' })).toBe(false);
    expect(matches(rule, { recipients: ['admin@example.com'] })).toBe(false);
    expect(matches(rule, { subject: '[nas] RAID array healthy' })).toBe(false);
    expect(matches(rule, { severity: 'info' })).toBe(false);
    expect(matches(rule, { clientAddress: '10.1.2.3' })).toBe(false);
    expect(matches(rule, { clientAddress: null })).toBe(false);
  });

  it('does not match past the cut of a long subject', () => {
    const subject = `${'x'.repeat(998)}needle`;
    expect(matches({ subject: 'needle' }, { subject })).toBe(false);
    expect(matches({ subject: 'x{998}' }, { subject })).toBe(true);
  });

  it('returns for a long adversarial text with a pattern the validation admits, judging its first characters', () => {
    const pattern = '^(a|b)+$';
    expect(matchProblems({ subject: pattern })).toEqual({});
    expect(matches({ subject: pattern }, { subject: `${'a'.repeat(100_000)}!` })).toBe(true);
    expect(matches({ sender: '^[a-z0-9.]+@[a-z0-9.-]+$' }, { sender: `${'a'.repeat(100_000)}!` })).toBe(false);
  });

  it('throws on a pattern or network that does not compile (the slow-pattern probe is the save\'s, not run again)', () => {
    expect(() => compileMatch({ subject: '([' })).toThrow(/regular expression/i);
    expect(() => compileMatch({ client: '192.168.1.0/33' })).toThrow(/client/);
    expect(() => compileMatch({ subject: '(a|a)*$' })).not.toThrow();
  });
});

describe('matchProblems', () => {
  it('is empty for a valid match', () => {
    expect(matchProblems({})).toEqual({});
    expect(
      matchProblems({ sender: '^(cron|root)@', recipient: '@example\\.(com|org)$', subject: '(disk|raid) .*fail', severity: 'critical', client: 'fd00::/8' }),
    ).toEqual({});
  });

  it('gives the syntax error of an invalid pattern', () => {
    expect(matchProblems({ subject: 'disk (full' })).toEqual({ subject: 'is not a valid regular expression: Unterminated group' });
    expect(matchProblems({ sender: '[z-a]' })).toEqual({ sender: 'is not a valid regular expression: Range out of order in character class' });
  });

  it('refuses a pattern that backtracks catastrophically', () => {
    expect(matchProblems({ subject: '(a+)+$' }).subject).toMatch(/^may backtrack catastrophically/);
    expect(matchProblems({ sender: '^([a-z0-9]+\\.)*[a-z0-9]+@example\\.com$' }).sender).toMatch(/^may backtrack catastrophically/);
  });

  it.each(['(a|a)*$', '(\\w|\\d)+$', '(.|\\s)*x', '\\s*\\s*\\s*$', '.*a.*b', 'a.*b.*c.*d.*e'])('refuses %j, which is slow on a long text', (pattern) => {
    expect(matchProblems({ subject: pattern }).subject).toMatch(/^takes over 25 ms on a long text/);
  });

  it('refuses a pattern over 500 characters', () => {
    const alternatives = Array.from({ length: 100 }, (_, i) => `host${String(i).padStart(2, '0')}`).join('|');
    expect(alternatives.length).toBeGreaterThan(500);
    expect(matchProblems({ sender: `^(${alternatives})@` })).toEqual({ sender: 'must be at most 500 characters' });
    expect(matchProblems({ sender: 'a'.repeat(500) })).toEqual({});
  });

  it('refuses an unknown severity', () => {
    expect(matchProblems({ severity: 'urgent' as never })).toEqual({ severity: 'must be info, warning or critical' });
  });

  it.each(['192.168.1.0/33', 'fd00::/129', '192.168.1.0/', '192.168.1.0/24/8', '10.0.0.0/08', '10.0.0/8', '192.168.1.256', 'nas.example.net', 'fe80::1%eth0', ''])(
    'refuses the client %j',
    (client) => {
      expect(matchProblems({ client })).toEqual({ client: expect.stringMatching(/^must be an IPv4 or IPv6 address or network/) });
    },
  );

  it.each(['10.0.0.0/8', '192.168.1.20', '0.0.0.0/0', 'fd00::/8', '2001:db8::/32', '::1', '::ffff:192.168.1.0/120'])('accepts the client %j', (client) => {
    expect(matchProblems({ client })).toEqual({});
  });

  it('reports each invalid field', () => {
    expect(Object.keys(matchProblems({ sender: '(', recipient: '(a*)*', subject: 'ok', client: 'lan' })).sort()).toEqual(['client', 'recipient', 'sender']);
  });
});
