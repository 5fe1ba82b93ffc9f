/** An alert's severity, from the headers its sender set. Pure functions. */
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Rank for comparisons: info 0 < warning 1 < critical 2. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** Whether a value is one of SEVERITIES. */
export function isSeverity(v: unknown): v is Severity {
  return typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v);
}

/** The header fields severityOf reads: values as found, already unfolded; undefined when absent. */
export interface SeverityHeaders {
  postroomSeverity?: string;
  xPriority?: string;
  importance?: string;
  priority?: string;
}

const POSTROOM_WORDS: Record<string, Severity> = {
  info: 'info',
  notice: 'info',
  normal: 'info',
  low: 'info',
  warning: 'warning',
  warn: 'warning',
  critical: 'critical',
  error: 'critical',
  err: 'critical',
  crit: 'critical',
  alert: 'critical',
  emerg: 'critical',
  emergency: 'critical',
  high: 'critical',
  urgent: 'critical',
};

const IMPORTANCE_WORDS: Record<string, Severity> = { high: 'warning', normal: 'info', low: 'info' };

const PRIORITY_WORDS: Record<string, Severity> = { urgent: 'critical' };

function word(value: string | undefined, words: Record<string, Severity>): Severity | undefined {
  const key = value?.trim().toLowerCase();
  return key !== undefined && Object.hasOwn(words, key) ? words[key] : undefined;
}

/** X-Priority: a digit 1-5, optionally followed by a comment such as "(Highest)". */
function xPrioritySeverity(value: string | undefined): Severity | undefined {
  const digit = value === undefined ? undefined : /^\s*([1-5])(?![0-9])/.exec(value)?.[1];
  if (digit === undefined) return undefined;
  return digit === '1' ? 'critical' : digit === '2' ? 'warning' : 'info';
}

/**
 * An alert's severity from its header fields: X-Postroom-Severity (info|warning|critical or a
 * common synonym such as warn, error, emerg; case-insensitive) wins, then X-Priority (1 critical,
 * 2 warning, 3-5 info), then Importance (high warning, normal/low info), then Priority (urgent
 * critical), else 'info'. An unrecognised value of one field falls through to the next.
 */
export function severityOf(h: SeverityHeaders): Severity {
  return (
    word(h.postroomSeverity, POSTROOM_WORDS) ??
    xPrioritySeverity(h.xPriority) ??
    word(h.importance, IMPORTANCE_WORDS) ??
    word(h.priority, PRIORITY_WORDS) ??
    'info'
  );
}
