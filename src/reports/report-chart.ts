import type { HourRow } from './report.types.js';

/** Escapes text for SVG/HTML content and attribute values. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

interface Series {
  key: keyof Omit<HourRow, 'hour'>;
  label: string;
  colour: string;
}

/** Intake on the left bar of each hour, delivery outcomes stacked on the right one. */
const INTAKE: Series[] = [
  { key: 'received', label: 'received', colour: '#0b5cad' },
  { key: 'rejected', label: 'rejected', colour: '#6f42c1' },
];
const OUTCOMES: Series[] = [
  { key: 'delivered', label: 'delivered', colour: '#1a7f37' },
  { key: 'deferred', label: 'deferred', colour: '#bf8700' },
  { key: 'bounced', label: 'bounced', colour: '#c0262d' },
];

/** A round axis maximum: 1, 2 or 5 times a power of ten, at least the largest bar. */
export function niceMax(n: number): number {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  return [1, 2, 5, 10].map((m) => m * p).find((v) => v >= n)!;
}

/**
 * The per-hour chart as inline SVG, drawn on the server (no script, no inline styles: colours
 * are presentation attributes, which the page's CSP allows). Each bar segment has a <title>.
 */
export function hourlyChartSvg(hourly: HourRow[], title = 'Messages per hour'): string {
  const width = 760;
  const height = 240;
  const left = 44;
  const right = 8;
  const top = 28;
  const bottom = 36;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const slot = plotW / 24;
  const barW = Math.max(2, slot / 2 - 3);
  const stack = (h: HourRow, series: Series[]) => series.reduce((n, s) => n + h[s.key], 0);
  const max = niceMax(Math.max(0, ...hourly.map((h) => Math.max(stack(h, INTAKE), stack(h, OUTCOMES)))));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const f = (v: number) => Number(v.toFixed(2));
  const parts: string[] = [];

  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title">`);
  parts.push(`<title id="chart-title">${escapeXml(title)}</title>`);
  for (const v of [0, max / 2, max]) {
    parts.push(`<line x1="${left}" x2="${width - right}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#d9dde3" stroke-width="1"/>`);
    parts.push(`<text x="${left - 6}" y="${f(y(v) + 4)}" text-anchor="end" font-size="11" fill="#5a6370">${escapeXml(formatTick(v))}</text>`);
  }
  for (const h of hourly) {
    const x0 = left + h.hour * slot + 2;
    for (const [i, series] of [INTAKE, OUTCOMES].entries()) {
      let base = 0;
      for (const s of series) {
        const v = h[s.key];
        if (v <= 0) continue;
        const yTop = y(base + v);
        parts.push(
          `<rect x="${f(x0 + i * (barW + 1))}" y="${f(yTop)}" width="${f(barW)}" height="${f(y(base) - yTop)}" fill="${s.colour}"><title>${escapeXml(`${pad(h.hour)}:00–${pad((h.hour + 1) % 24)}:00 ${s.label}: ${v}`)}</title></rect>`,
        );
        base += v;
      }
    }
    if (h.hour % 3 === 0) parts.push(`<text x="${f(x0 + barW)}" y="${height - bottom + 14}" text-anchor="middle" font-size="11" fill="#5a6370">${pad(h.hour)}</text>`);
  }
  parts.push(`<line x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#5a6370" stroke-width="1"/>`);
  let lx = left;
  for (const s of [...INTAKE, ...OUTCOMES]) {
    parts.push(`<rect x="${lx}" y="8" width="10" height="10" fill="${s.colour}"/><text x="${lx + 14}" y="17" font-size="11" fill="#1b1f24">${escapeXml(s.label)}</text>`);
    lx += 14 + s.label.length * 7 + 16;
  }
  parts.push(`<text x="${width - right}" y="${height - 4}" text-anchor="end" font-size="11" fill="#5a6370">hour (left bar: intake, right bar: delivery)</text>`);
  parts.push('</svg>');
  return parts.join('');
}

const pad = (n: number) => String(n).padStart(2, '0');

function formatTick(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}
