import { describe, expect, it } from 'vitest';
import { escapeXml, hourlyChartSvg, niceMax } from '../../src/reports/report-chart.js';

const hours = () => Array.from({ length: 24 }, (_, hour) => ({ hour, received: 0, delivered: 0, deferred: 0, bounced: 0, rejected: 0 }));

describe('hourlyChartSvg', () => {
  it('draws one segment per non-zero count, each with its number in a title', () => {
    const h = hours();
    h[9] = { hour: 9, received: 40, delivered: 30, deferred: 5, bounced: 2, rejected: 1 };
    const svg = hourlyChartSvg(h);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    const bars = [...svg.matchAll(/<rect [^>]*><title>([^<]*)<\/title><\/rect>/g)].map((m) => m[1]);
    expect(bars).toEqual(['09:00–10:00 received: 40', '09:00–10:00 rejected: 1', '09:00–10:00 delivered: 30', '09:00–10:00 deferred: 5', '09:00–10:00 bounced: 2']);
    expect(svg).toContain('>50</text>'); // the axis rounds 41 up to 50
    expect(svg).not.toMatch(/style=|<script/);
  });

  it('draws an empty day with axes and no bars', () => {
    const svg = hourlyChartSvg(hours());
    expect(svg).not.toMatch(/<rect [^>]*><title>/);
    expect(svg).toContain('>00</text>');
    expect(svg).toContain('>21</text>');
  });

  it('escapes its text', () => {
    expect(hourlyChartSvg(hours(), '<b>"x" & \'y\'</b>')).toContain('<title id="chart-title">&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/b&gt;</title>');
    expect(escapeXml('a<b>&')).toBe('a&lt;b&gt;&amp;');
  });

  it('rounds the axis to 1, 2 or 5 times a power of ten', () => {
    expect([0, 1, 3, 7, 10, 11, 180, 201, 4999].map(niceMax)).toEqual([1, 1, 5, 10, 10, 20, 200, 500, 5000]);
  });
});
