import { describe, expect, it } from 'vitest';
import { newPasswordErrors } from '../../src/dashboard/password-rule.js';

const current = 'correct horse battery staple';
const change = (password: string, confirm = password) => newPasswordErrors({ current, password, confirm });

describe('the admin password rule', () => {
  it('accepts a passphrase of words, or a mix of letters and digits, of 12 characters or more', () => {
    expect(change('tangerine wombat lighthouse')).toEqual({});
    expect(change('Tr0ub4dor&3xy')).toEqual({});
    expect(change('abcdefghijk1')).toEqual({});
  });

  it('refuses fewer than 12 characters, counting characters rather than UTF-16 units', () => {
    expect(change('Short 1').password).toBe('The new password must be at least 12 characters long (this one has 7).');
    expect(change('ü'.repeat(5) + '12345x').password).toMatch(/this one has 11/);
    expect(change('😀'.repeat(6) + 'abcdef')).toEqual({}); // 12 characters, 18 UTF-16 units
  });

  it('refuses a password longer than the login accepts', () => {
    expect(change('ab1'.repeat(400)).password).toMatch(/at most 1024 characters/);
  });

  it('refuses the current password', () => {
    expect(change(current).password).toBe('The new password must differ from the current one.');
  });

  it('refuses a password of one kind of character only', () => {
    for (const one of ['abcdefghijklmnop', 'ABCDEFGHIJKLMNOP', '1234567890123', '!!!!----....,,,,']) {
      expect(change(one).password, one).toMatch(/mix at least two kinds of characters/);
    }
  });

  it('asks for the new password twice, alike', () => {
    expect(change('tangerine wombat lighthouse', '').confirm).toBe('Type the new password a second time.');
    expect(change('tangerine wombat lighthouse', 'tangerine wombat lighthouze').confirm).toBe('The two new passwords differ: type the same one twice.');
    expect(change('', '').password).toBe('Enter a new password.');
  });
});
