import { describe, expect, it } from 'vitest';
import { isLocalAddress, localDomainsOf } from '../../src/common/local-domains.js';
import { LocalMailPolicy, qualifySender, resolveRecipients } from '../../src/intake/local-mail.js';

const policy = (over: Partial<LocalMailPolicy> = {}): LocalMailPolicy => ({
  localDomains: localDomainsOf(['nas.example.com', 'vm']),
  aliases: { backup: ['ops@example.com', 'oncall@example.com'] },
  adminAddress: 'admin@example.com',
  fromAddress: 'nas@example.com',
  hostname: 'nas.example.com',
  ...over,
});

describe('local mail', () => {
  describe('isLocalAddress', () => {
    it('is true without a domain, at localhost and at the machine names, with or without their domain', () => {
      const d = policy().localDomains;
      for (const a of ['root', 'x@localhost', 'x@LOCALHOST.localdomain', 'x@nas.example.com', 'x@nas', 'x@vm', 'x@vm.']) expect(isLocalAddress(a, d), a).toBe(true);
      for (const a of ['x@example.com', 'x@nas.example.org', 'x@mail.nas.example.com']) expect(isLocalAddress(a, d), a).toBe(false);
    });

    it('is true at the loopback address literals, and false for a notification channel (a routing rule\'s recipient)', () => {
      const d = policy().localDomains;
      for (const a of ['root@[127.0.0.1]', 'root@[IPv6:::1]']) expect(isLocalAddress(a, d), a).toBe(true);
      for (const a of ['channel:1', 'channel:42', 'x@[192.0.2.1]']) expect(isLocalAddress(a, d), a).toBe(false);
    });
  });

  describe('resolveRecipients', () => {
    it('sends an aliased name to its addresses and every other local name to the admin, each address once, remembering the originals', () => {
      const r = resolveRecipients(['root', 'postmaster@localhost', 'Backup@nas', 'bob@example.com', 'ops@example.com', 'jane'], policy());
      expect(r.recipients).toEqual(['admin@example.com', 'ops@example.com', 'oncall@example.com', 'bob@example.com']);
      // ops@example.com was also addressed directly: its originals say so.
      expect(r.originals).toEqual({ 'admin@example.com': 'root, postmaster@localhost, jane', 'ops@example.com': 'Backup@nas, ops@example.com', 'oncall@example.com': 'Backup@nas' });
      expect(r.unresolved).toEqual([]);
    });

    it('reads only the aliases set: a name such as constructor or __proto__ is a local name like any other', () => {
      for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
        expect(resolveRecipients([`${name}@localhost`], policy()), name).toEqual({ recipients: ['admin@example.com'], originals: { 'admin@example.com': `${name}@localhost` }, unresolved: [] });
        expect(resolveRecipients([name], policy({ adminAddress: '' })).unresolved, name).toEqual([name]);
      }
      const own = resolveRecipients(['constructor'], policy({ aliases: Object.fromEntries([['constructor', ['c@example.com']]]) }));
      expect(own.recipients).toEqual(['c@example.com']);
    });

    it('leaves a notification channel alone, even with no admin address (a held message released later keeps its channel)', () => {
      expect(resolveRecipients(['root', 'channel:1'], policy())).toEqual({ recipients: ['admin@example.com', 'channel:1'], originals: { 'admin@example.com': 'root' }, unresolved: [] });
      expect(resolveRecipients(['root', 'channel:1'], policy({ adminAddress: '' })).unresolved).toEqual(['root']);
    });

    it('changes nothing for mail to the outside', () => {
      expect(resolveRecipients(['a@example.com'], policy())).toEqual({ recipients: ['a@example.com'], originals: null, unresolved: [] });
    });

    it('leaves a local name without alias unresolved when there is no admin address', () => {
      const r = resolveRecipients(['root', 'backup', 'a@example.com'], policy({ adminAddress: '' }));
      expect(r.unresolved).toEqual(['root']);
      expect(r.recipients).toEqual(['root', 'ops@example.com', 'oncall@example.com', 'a@example.com']);
    });
  });

  describe('qualifySender', () => {
    it('gives a local sender the From address, or qualifies it with the host name (localhost when it has no domain)', () => {
      expect(qualifySender('root', policy())).toBe('nas@example.com');
      expect(qualifySender('root@localhost', policy())).toBe('nas@example.com');
      expect(qualifySender('root', policy({ fromAddress: '' }))).toBe('root@nas.example.com');
      expect(qualifySender('root', policy({ fromAddress: '', hostname: 'vm' }))).toBe('root@localhost');
      // Already at a local domain: qualified all the same.
      expect(qualifySender('root@localhost', policy({ fromAddress: '' }))).toBe('root@nas.example.com');
      expect(qualifySender('Root@VM', policy({ fromAddress: '' }))).toBe('Root@nas.example.com');
      expect(qualifySender('cron@example.com', policy())).toBe('cron@example.com');
      expect(qualifySender('', policy())).toBe('');
    });
  });
});
