import { describe, expect, it } from 'vitest';
import { SmtpTranscript } from '../../src/delivery/smtp-transcript.js';

const b64 = (v: string) => Buffer.from(v).toString('base64');

describe('SmtpTranscript', () => {
  it('redacts AUTH PLAIN and AUTH LOGIN payloads and follows the step', () => {
    const t = new SmtpTranscript(['hunter22']);
    t.logger.info({ tnx: 'network' }, 'Connection established to %s:%s', '127.0.0.1', 25);
    t.logger.debug({ tnx: 'server' }, '220 relay ESMTP');
    t.logger.debug({ tnx: 'client' }, 'EHLO me');
    t.logger.debug({ tnx: 'server' }, '250-relay\n250 AUTH PLAIN LOGIN');
    t.logger.debug({ tnx: 'client' }, 'AUTH PLAIN ' + b64('\0user\0hunter22'));
    t.logger.debug({ tnx: 'server' }, '535 no');
    t.logger.debug({ tnx: 'client' }, 'AUTH LOGIN');
    t.logger.debug({ tnx: 'server' }, '334 VXNlcm5hbWU6');
    t.logger.debug({ tnx: 'client' }, b64('user'));
    t.logger.debug({ tnx: 'server' }, '334 UGFzc3dvcmQ6');
    t.logger.debug({ tnx: 'client' }, b64('hunter22'));
    t.logger.debug({ tnx: 'server' }, '535 still no');
    t.logger.debug({ tnx: 'client' }, 'QUIT');
    expect(t.lines).toEqual([
      '* Connection established to 127.0.0.1:25',
      'S: 220 relay ESMTP',
      'C: EHLO me',
      'S: 250-relay',
      'S: 250 AUTH PLAIN LOGIN',
      'C: AUTH PLAIN [redacted]',
      'S: 535 no',
      'C: AUTH LOGIN',
      'S: 334 VXNlcm5hbWU6',
      'C: [redacted]',
      'S: 334 UGFzc3dvcmQ6',
      'C: [redacted]',
      'S: 535 still no',
      'C: QUIT',
    ]);
    expect(t.phase).toBe('auth');
    expect(t.connected).toBe(true);
    expect(t.lastServerLine).toBe('535 still no');
  });

  it('removes the password from any line and from replies', () => {
    const t = new SmtpTranscript(['hunter22']);
    t.logger.error({ tnx: 'smtp' }, 'failed with %s', 'hunter22 and ' + b64('hunter22'));
    expect(t.lines).toEqual(['* failed with [redacted] and [redacted]']);
    expect(t.redact('x hunter22 y')).toBe('x [redacted] y');
  });

  it('leaves the message itself out', () => {
    const t = new SmtpTranscript();
    t.logger.debug({ tnx: 'message' }, 'Subject: hello');
    expect(t.lines).toEqual([]);
  });
});
