import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Colour contrast of the dashboard, computed from public/app.css itself with the WCAG 2 formula:
 * every status badge, and the text on the grounds it is drawn on, in the light theme and in the
 * dark one (prefers-color-scheme). WCAG AA asks 4.5:1 for text of this size.
 */
const CSS = readFileSync(path.join(import.meta.dirname, '..', '..', 'public', 'app.css'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
const AA = 4.5;

/** The custom properties of a `:root { … }` block. */
function properties(block: string): Map<string, string> {
  return new Map([...block.matchAll(/(--[\w-]+)\s*:\s*([^;]+);/g)].map((m) => [m[1]!, m[2]!.trim()]));
}

const lightBlock = /^:root\s*\{([^}]*)\}/m.exec(CSS)?.[1] ?? '';
const darkBlock = /@media\s*\(prefers-color-scheme:\s*dark\)\s*\{\s*:root\s*\{([^}]*)\}/.exec(CSS)?.[1] ?? '';
const light = properties(lightBlock);
const THEMES = { light, dark: new Map([...light, ...properties(darkBlock)]) };

/** A colour value with its var() resolved in a theme, as #rrggbb. */
function resolve(value: string, theme: Map<string, string>): string {
  const v = /^var\((--[\w-]+)\)$/.exec(value.trim());
  const colour = v ? theme.get(v[1]!) : value.trim();
  if (!colour) throw new Error(`${value} is not defined`);
  const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(colour)?.[1];
  if (!hex) throw new Error(`${colour} is not a #hex colour`);
  return '#' + (hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex).toLowerCase();
}

/** WCAG 2 relative luminance. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Each badge selector (".badge" is the plain one) with its background and text colour. */
function badgeRules(): Map<string, { background: string; color: string }> {
  const rules = new Map<string, { background: string; color: string }>();
  for (const m of CSS.matchAll(/(?<=^|\})\s*([^{}@]+)\{([^}]*)\}/g)) {
    const selectors = m[1]!.split(',').map((s) => s.trim());
    if (!selectors.every((s) => /^\.badge(\.[\w-]+)?$/.test(s))) continue;
    const background = /(?:^|;)\s*background(?:-color)?\s*:\s*([^;]+)/.exec(m[2]!)?.[1];
    const color = /(?:^|;)\s*color\s*:\s*([^;]+)/.exec(m[2]!)?.[1];
    for (const s of selectors) {
      const base = rules.get('.badge');
      rules.set(s, { background: background ?? base!.background, color: color ?? base!.color });
    }
  }
  return rules;
}

/** Every badge the views draw: queue states, mail-log events, event levels, recipients' statuses, relay health. */
const BADGES = ['.badge', 'queued', 'deferred', 'hold', 'sending', 'received', 'sent', 'bounced', 'rejected', 'held', 'released', 'deleted', 'digested', 'test', 'info', 'warning', 'error', 'pending', 'unknown'];

describe('dashboard colours (WCAG contrast from public/app.css)', () => {
  it('reads both themes: the light :root and the dark one of prefers-color-scheme', () => {
    expect(light.size).toBeGreaterThan(20);
    expect(properties(darkBlock).size).toBeGreaterThan(20);
  });

  it.each(Object.keys(THEMES))('gives every status badge a contrast of at least 4.5:1 in the %s theme', (name) => {
    const theme = THEMES[name as keyof typeof THEMES];
    const rules = badgeRules();
    for (const badge of BADGES) {
      const selector = badge.startsWith('.') ? badge : `.badge.${badge}`;
      const rule = rules.get(selector);
      expect(rule, `${selector} has a rule`).toBeDefined();
      const ratio = contrast(resolve(rule!.color, theme), resolve(rule!.background, theme));
      expect(ratio, `${selector}: ${rule!.color} on ${rule!.background} in the ${name} theme`).toBeGreaterThanOrEqual(AA);
    }
  });

  it.each(Object.keys(THEMES))('draws text, links, hints, errors and buttons at 4.5:1 or more in the %s theme', (name) => {
    const theme = THEMES[name as keyof typeof THEMES];
    const pairs: [string, string][] = [
      ['--text', '--bg'],
      ['--text', '--panel'],
      ['--muted', '--bg'],
      ['--muted', '--panel'],
      ['--muted', '--head'],
      ['--accent', '--panel'],
      ['--accent', '--bg'],
      ['--bad', '--panel'],
      ['--bad', '--alert'],
      ['--text', '--flash'],
      ['--text', '--field'],
      ['--accent-text', '--accent'],
      ['--danger-text', '--danger'],
      ['--menu-text', '--menu'],
      ['--menu-text', '--side'],
      ['--menu-text', '--side-hover'],
      ['--menu-muted', '--menu'],
      ['--transcript-text', '--transcript'],
    ];
    for (const [fg, bg] of pairs) {
      const ratio = contrast(resolve(`var(${fg})`, theme), resolve(`var(${bg})`, theme));
      expect(ratio, `${fg} on ${bg} in the ${name} theme`).toBeGreaterThanOrEqual(AA);
    }
  });

  it('computes the WCAG ratio: black on white is 21:1, a colour on itself 1:1', () => {
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrast('#0b5cad', '#0b5cad')).toBe(1);
    expect(contrast('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
  });
});
