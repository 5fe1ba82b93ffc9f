import { describe, expect, it } from 'vitest';
import { LocalMailPolicy, isLocalAddress, localDomainsOf, qualifySender, resolveRecipients } from '../../src/intake/local-mail.js';

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
  });

  describe('resolveRecipients', () => {
    it('sends an aliased name to its addresses and every other local name to the admin, each address once, remembering the originals', () => {
      const r = resolveRecipients(['root', 'postmaster@localhost', 'Backup@nas', 'bob@example.com', 'ops@example.com', 'jane'], policy());
      expect(r.recipients).toEqual(['admin@example.com', 'ops@example.com', 'oncall@example.com', 'bob@example.com']);
      expect(r.originals).toEqual({ 'admin@example.com': 'root, postmaster@localhost, jane', 'ops@example.com': 'Backup@nas', 'oncall@example.com': 'Backup@nas' });
      expect(r.unresolved).toEqual([]);
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
      expect(qualifySender('cron@example.com', policy())).toBe('cron@example.com');
      expect(qualifySender('', policy())).toBe('');
    });
  });
});
