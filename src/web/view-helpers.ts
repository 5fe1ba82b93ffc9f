/** Handlebars helpers: formatting only, no logic. Every value is escaped by {{ }} as usual. */
interface HelperHost {
  registerHelper(name: string, fn: (...args: never[]) => unknown): void;
}

export function formatBytes(value: number | string): string {
  const n = Number(value);
  if (value === '' || value === null || !Number.isFinite(n)) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** "2026-11-22 03:15:19" in the appliance's time zone (TZ). */
export function formatTime(value: string | Date | null | undefined): string {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  const parts = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).formatToParts(d);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour') === '24' ? '00' : get('hour')}:${get('minute')}:${get('second')}`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

/** A queue state in words: the stored `hold` reads "on hold" ("Message X is on hold"). */
const STATE_LABELS: Record<string, string> = { queued: 'queued', deferred: 'deferred', hold: 'on hold', sending: 'sending' };

export function stateLabel(state: unknown): string {
  return typeof state === 'string' ? (STATE_LABELS[state] ?? state) : '';
}

export function registerHelpers(hbs: HelperHost): void {
  hbs.registerHelper('bytes', (n: number | string) => formatBytes(n));
  hbs.registerHelper('time', (v: string | Date | null) => formatTime(v));
  hbs.registerHelper('duration', (ms: number | null) => formatDuration(ms));
  hbs.registerHelper('stateLabel', (state: unknown) => stateLabel(state));
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('join', (list: unknown, sep: unknown) => (Array.isArray(list) ? list.join(typeof sep === 'string' ? sep : ', ') : ''));
  hbs.registerHelper('plural', (n: number, one: string, many: string) => (n === 1 ? one : many));
}
