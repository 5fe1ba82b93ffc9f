import { describe, expect, it } from 'vitest';
import { domainOf, formatMailbox, hasLineBreak, isAddressOrLocalName, isHostOrAddress, isHostname, isMailbox, singleMailbox } from '../../src/common/address.js';

describe('isHostname', () => {
  it.each(['example.com', 'mail.example.com', 'localhost', 'example.com.', 'xn--bcher-kva.example', 'a-b.c-d.example', 'MAIL.Example.COM', '1.2.3.4'])(
    'accepts %j',
    (value) => expect(isHostname(value)).toBe(true),
  );

  it.each(['', '.', '-a.example', 'a-.example', 'a_b.example', 'a..example', '.example.com', 'bücher.example', 'a b.example', 'host:25'])(
    'rejects %j',
    (value) => expect(isHostname(value)).toBe(false),
  );

  it('accepts a 63-character label and rejects a 64-character one', () => {
    expect(isHostname(`${'a'.repeat(63)}.example`)).toBe(true);
    expect(isHostname(`${'a'.repeat(64)}.example`)).toBe(false);
  });

  it('accepts 253 characters in all and rejects 254', () => {
    const name253 = [`${'a'.repeat(63)}`, 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.');
    expect(name253).toHaveLength(253);
    expect(isHostname(name253)).toBe(true);
    expect(isHostname(`${name253}d`)).toBe(false);
  });
});

describe('isHostOrAddress', () => {
  it.each(['smtp.example.com', 'localhost', '192.0.2.10', '::1', '[::1]', '2001:db8::25', '[2001:db8::25]', '::ffff:192.0.2.1', 'fe80::1'])(
    'accepts %j',
    (value) => expect(isHostOrAddress(value)).toBe(true),
  );

  it.each(['', ':', '::::', '1:2', '2001:db8::g', '[smtp.example.com]', '[192.0.2.10]', 'smtp.example.com:587', 'smtp_relay.example'])(
    'rejects %j',
    (value) => expect(isHostOrAddress(value)).toBe(false),
  );
});

describe('isMailbox', () => {
  it.each([
    'user@example.com',
    'first.last+tag@sub.example.org',
    "o'brien@example.ie",
    "!#$%&'*+/=?^_`{|}~-@example.com",
    'postmaster@localhost',
    'root@LOCALHOST',
    'user@example.com.',
  ])('accepts the plain address %j', (value) => expect(isMailbox(value)).toBe(true));

  it.each(['"john smith"@example.com', '"a\\"b"@example.com', '"a\\\\b"@example.com', '"a@b"@example.com', '""@example.com', '"a.b"@example.com'])(
    'accepts the quoted local part %j',
    (value) => expect(isMailbox(value)).toBe(true),
  );

  it.each(['user@[192.0.2.1]', 'user@[IPv6:2001:db8::1]', 'user@[ipv6:::1]'])('accepts the address literal %j', (value) =>
    expect(isMailbox(value)).toBe(true),
  );

  it.each(['用户@例子.广告', 'pelé@example.com', 'user@bücher.example', 'ü@exämple.com', 'Δοκιμή@παράδειγμα.δοκιμή'])(
    'accepts the SMTPUTF8 address %j',
    (value) => expect(isMailbox(value)).toBe(true),
  );

  it.each([
    '',
    'user',
    '@example.com',
    'user@',
    'user@example',
    'user@.example.com',
    'user@example..com',
    'user@-example.com',
    '.user@example.com',
    'user.@example.com',
    'us..er@example.com',
    'john smith@example.com',
    '<user@example.com>',
    'user@example.com>',
    'user@exa_mple.com',
    '"unterminated@example.com',
    '"a"b"@example.com',
    '"a"@"b"@example.com',
  ])('rejects the malformed address %j', (value) => expect(isMailbox(value)).toBe(false));

  // nodemailer's SMTPConnection refuses an envelope address with < or > anywhere ("Invalid
  // sender"/"Invalid recipient", no reply code): such mail was retried for its whole lifetime.
  it.each(['"a<b"@example.com', '"a>b"@example.com', '"<x@evil.example>"@example.com', '"a\\<b"@example.com', 'ü<@example.com'])(
    'rejects %j: a quoted local part with < or > can never be sent',
    (value) => expect(isMailbox(value)).toBe(false),
  );

  it.each(['user@[example.com]', 'user@[IPv6:zz::1]', 'user@[192.0.2.1', 'user@192.0.2.1]', 'user@[300.1.1.1]', 'user@[192.0.2]', 'user@[IPv6:1:2:3]', 'user@[::1]'])('rejects the bad address literal %j', (value) =>
    expect(isMailbox(value)).toBe(false),
  );

  it.each([
    'us\ter@example.com',
    'user\u0000@example.com',
    'user@exa\u007fmple.com',
    'user\r\n@example.com',
    'user@example.com\r\nRCPT TO:<x@evil.example>',
    '"a\u0001b"@example.com',
    '"a\tb"@example.com',
    'pel\u0085é@example.com',
    'ü@exä\u009fmple.com',
    'ü ser@example.com',
    'ü"x@example.com',
    'ü\\x@example.com',
    'ü@exä mple.com',
    'ü@exämple',
  ])('rejects %j because of control characters, spaces or specials', (value) => expect(isMailbox(value)).toBe(false));

  it('accepts a 64-character local part and rejects a 65-character one', () => {
    expect(isMailbox(`${'a'.repeat(64)}@example.com`)).toBe(true);
    expect(isMailbox(`${'a'.repeat(65)}@example.com`)).toBe(false);
  });

  it('accepts 254 characters in all and rejects 255', () => {
    const domain = ['b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.');
    const address = `${'a'.repeat(64)}@${domain}`;
    expect(address).toHaveLength(254);
    expect(isMailbox(address)).toBe(true);
    expect(isMailbox(`${address}d`)).toBe(false);
  });

  it('rejects a domain label longer than 63 characters', () => {
    expect(isMailbox(`user@${'a'.repeat(64)}.example`)).toBe(false);
  });
});

describe('isAddressOrLocalName', () => {
  const here = (d: string) => d === 'nas';
  it('takes full addresses and bare local names', () => {
    for (const a of ['ops@example.com', 'root', 'backup-job', 'x@localhost']) expect(isAddressOrLocalName(a, here), a).toBe(true);
  });

  it('takes a name at a dotless host name only when that host is this machine', () => {
    expect(isAddressOrLocalName('root@nas', here)).toBe(true);
    expect(isAddressOrLocalName('ops@nodot', here)).toBe(false);
    expect(isAddressOrLocalName('root@nas')).toBe(false);
  });

  it('refuses what is no address', () => {
    for (const a of ['', 'two words', 'a@@b', '@nas', 'root@']) expect(isAddressOrLocalName(a, here), a).toBe(false);
  });
});

describe('singleMailbox', () => {
  it("reads cron's `root (Cron Daemon)`, a bare name, and a name-addr", () => {
    expect(singleMailbox('root (Cron Daemon)')).toEqual({ address: 'root', name: 'Cron Daemon' });
    expect(singleMailbox('root')).toEqual({ address: 'root', name: '' });
    expect(singleMailbox('"Ops Team" <ops@example.com>')).toEqual({ address: 'ops@example.com', name: 'Ops Team' });
  });

  it('gives nothing for a list or an empty value', () => {
    expect(singleMailbox('a@example.com, b@example.com')).toBeUndefined();
    expect(singleMailbox('')).toBeUndefined();
  });
});

describe('domainOf', () => {
  it('returns the part after the last @ in lower case', () => {
    expect(domainOf('User@Example.COM')).toBe('example.com');
    expect(domainOf('"a@b"@Sub.Example.org')).toBe('sub.example.org');
    expect(domainOf('user@[192.0.2.1]')).toBe('[192.0.2.1]');
  });
});

describe('hasLineBreak', () => {
  it('is true when the value holds CR, LF or CRLF', () => {
    expect(hasLineBreak('a\r\nBcc: x@example.com')).toBe(true);
    expect(hasLineBreak('a\nb')).toBe(true);
    expect(hasLineBreak('a\rb')).toBe(true);
  });

  it('is false for other whitespace and plain text', () => {
    expect(hasLineBreak('Alerts Bot')).toBe(false);
    expect(hasLineBreak('tab\there')).toBe(false);
    expect(hasLineBreak('')).toBe(false);
  });
});

describe('formatMailbox', () => {
  it('returns the bare address when the name is empty', () => {
    expect(formatMailbox('', 'alerts@example.com')).toBe('alerts@example.com');
  });

  it('leaves a name of atoms and spaces unquoted', () => {
    expect(formatMailbox('Alerts Bot', 'alerts@example.com')).toBe('Alerts Bot <alerts@example.com>');
    expect(formatMailbox("O'Brien-Ops", 'ops@example.ie')).toBe("O'Brien-Ops <ops@example.ie>");
  });

  it('quotes a name with specials such as comma, period, colon or angle brackets', () => {
    expect(formatMailbox('Smith, John', 'j@example.com')).toBe('"Smith, John" <j@example.com>');
    expect(formatMailbox('J. Smith', 'j@example.com')).toBe('"J. Smith" <j@example.com>');
    expect(formatMailbox('Ops: night', 'o@example.com')).toBe('"Ops: night" <o@example.com>');
    expect(formatMailbox('<evil@example.com>', 'o@example.com')).toBe('"<evil@example.com>" <o@example.com>');
  });

  it('escapes double quotes and backslashes inside a quoted name', () => {
    expect(formatMailbox('Say "hi"', 'a@example.com')).toBe('"Say \\"hi\\"" <a@example.com>');
    expect(formatMailbox('back\\slash', 'a@example.com')).toBe('"back\\\\slash" <a@example.com>');
  });

  it('encodes a non-ASCII name as an RFC 2047 base64 encoded word', () => {
    expect(formatMailbox('Jöhn', 'j@example.com')).toBe('=?UTF-8?B?SsO2aG4=?= <j@example.com>');
    expect(formatMailbox('Überwachung', 'u@example.de')).toBe(`=?UTF-8?B?${Buffer.from('Überwachung').toString('base64')}?= <u@example.de>`);
  });

  it('encodes a name with a line break instead of letting it inject a header', () => {
    const out = formatMailbox('x\r\nBcc: victim@example.com', 'a@example.com');
    expect(out).toBe('=?UTF-8?B?eA0KQmNjOiB2aWN0aW1AZXhhbXBsZS5jb20=?= <a@example.com>');
    expect(hasLineBreak(out)).toBe(false);
  });
});
