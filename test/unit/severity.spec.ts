import { describe, expect, it } from 'vitest';
import { SEVERITIES, isSeverity, severityOf, severityRank } from '../../src/common/severity.js';

describe('severityRank', () => {
  it('orders info < warning < critical', () => {
    expect(SEVERITIES.map(severityRank)).toEqual([0, 1, 2]);
  });
});

describe('isSeverity', () => {
  it.each(['info', 'warning', 'critical'])('accepts %j', (value) => expect(isSeverity(value)).toBe(true));

  it.each(['Info', 'warn', 'error', '', null, undefined, 2])('rejects %j', (value) => expect(isSeverity(value)).toBe(false));
});

describe('severityOf', () => {
  it('is info without any of the fields', () => {
    expect(severityOf({})).toBe('info');
  });

  describe('X-Postroom-Severity', () => {
    it.each([
      ['info', 'info'],
      ['warning', 'warning'],
      ['critical', 'critical'],
      ['CRITICAL', 'critical'],
      [' Warning ', 'warning'],
      ['notice', 'info'],
      ['normal', 'info'],
      ['low', 'info'],
      ['warn', 'warning'],
      ['error', 'critical'],
      ['err', 'critical'],
      ['crit', 'critical'],
      ['alert', 'critical'],
      ['emerg', 'critical'],
      ['emergency', 'critical'],
      ['High', 'critical'],
      ['urgent', 'critical'],
    ] as const)('reads %j as %s', (value, severity) => {
      expect(severityOf({ postroomSeverity: value })).toBe(severity);
    });
  });

  describe('X-Priority', () => {
    it.each([
      ['1 (Highest)', 'critical'],
      ['1', 'critical'],
      ['2 (High)', 'warning'],
      ['2', 'warning'],
      ['3 (Normal)', 'info'],
      ['4 (Low)', 'info'],
      ['5 (Lowest)', 'info'],
    ] as const)('reads %j as %s', (value, severity) => {
      expect(severityOf({ xPriority: value })).toBe(severity);
    });
  });

  describe('Importance', () => {
    it.each([
      ['high', 'warning'],
      ['High', 'warning'],
      ['normal', 'info'],
      ['low', 'info'],
    ] as const)('reads %j as %s', (value, severity) => {
      expect(severityOf({ importance: value })).toBe(severity);
    });
  });

  describe('Priority', () => {
    it.each([
      ['urgent', 'critical'],
      ['Urgent', 'critical'],
      ['normal', 'info'],
      ['non-urgent', 'info'],
    ] as const)('reads %j as %s', (value, severity) => {
      expect(severityOf({ priority: value })).toBe(severity);
    });
  });

  it('takes X-Postroom-Severity over the other fields', () => {
    expect(severityOf({ postroomSeverity: 'info', xPriority: '1 (Highest)', importance: 'high', priority: 'urgent' })).toBe('info');
  });

  it('takes X-Priority over Importance and Priority', () => {
    expect(severityOf({ xPriority: '5 (Lowest)', importance: 'high', priority: 'urgent' })).toBe('info');
    expect(severityOf({ xPriority: '2 (High)', priority: 'urgent' })).toBe('warning');
  });

  it('takes Importance over Priority', () => {
    expect(severityOf({ importance: 'low', priority: 'urgent' })).toBe('info');
  });

  it('falls through an unrecognised value to the next field', () => {
    expect(severityOf({ postroomSeverity: 'fatal-ish', xPriority: '2 (High)' })).toBe('warning');
    expect(severityOf({ xPriority: '9', importance: 'high' })).toBe('warning');
    expect(severityOf({ xPriority: '12', importance: 'high' })).toBe('warning');
    expect(severityOf({ xPriority: 'Highest', priority: 'urgent' })).toBe('critical');
    expect(severityOf({ importance: 'very', priority: 'urgent' })).toBe('critical');
  });

  it('is info when every field is unrecognised or empty', () => {
    expect(severityOf({ postroomSeverity: '', xPriority: 'soon', importance: 'medium', priority: 'whenever' })).toBe('info');
  });

  it('does not read inherited object keys as words', () => {
    expect(severityOf({ postroomSeverity: 'constructor', importance: 'toString', priority: 'urgent' })).toBe('critical');
  });
});
