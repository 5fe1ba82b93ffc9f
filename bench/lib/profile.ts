import { readFile } from 'node:fs/promises';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  name: string;
  ms: number;
  pct: number;
}

export interface ProfileSummary {
  windowMs: number;
  busyMs: number;
  idleMs: number;
  gcMs: number;
  /** Self time by function (excluding idle). */
  functions: ProfileRow[];
  /** Self time by package or Postroom module. */
  modulesSelf: ProfileRow[];
  /**
   * Self time charged to its owner: the innermost frame on the stack that is an npm package or a
   * Postroom file (so a native writev called by pino's destination counts for pino).
   */
  owners: ProfileRow[];
  /** Inclusive time: samples with this package or Postroom file anywhere on the stack. */
  modulesInclusive: ProfileRow[];
}

/** Where a frame belongs: an npm package, a Postroom source file, Node's internals, or V8's pseudo-frames. */
export function moduleOf(url: string, functionName: string, root: string): string {
  if (!url) {
    if (functionName.startsWith('(')) return functionName; // (garbage collector), (program), (idle), (root)
    return '(native)';
  }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const p = url.startsWith('file://') ? decodeURIComponent(new URL(url).pathname) : url;
  const nm = p.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = p.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const rel = path.relative(root, p);
  if (!rel.startsWith('..')) return 'postroom ' + rel.replace(/^dist\//, '').replace(/\.js$/, '');
  return p;
}

/**
 * Summarises the samples of a .cpuprofile that fall in [fromUs, toUs] (profile clock, µs):
 * self time per function and per module, and inclusive time per module.
 */
export async function summarizeProfile(file: string, root: string, window?: { fromUs: number; toUs: number }, top = 25): Promise<ProfileSummary> {
  const prof = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const from = window?.fromUs ?? prof.startTime;
  const to = window?.toUs ?? prof.endTime;
  const selfFn = new Map<string, number>();
  const selfMod = new Map<string, number>();
  const inclMod = new Map<string, number>();
  const owners = new Map<string, number>();
  const isOwner = (m: string) => !m.startsWith('node:') && !m.startsWith('(') && !m.startsWith('/');
  let t = prof.startTime;
  let idle = 0;
  let gc = 0;
  let total = 0;
  const modCache = new Map<number, string>();
  const modOfNode = (id: number): string => {
    let m = modCache.get(id);
    if (m === undefined) {
      const n = byId.get(id)!;
      m = moduleOf(n.callFrame.url, n.callFrame.functionName, root);
      modCache.set(id, m);
    }
    return m;
  };
  for (let i = 0; i < prof.samples.length; i++) {
    t += prof.timeDeltas[i] ?? 0;
    if (t < from || t > to) continue;
    // A sample's weight: the time until the next sample (the interval it stands for).
    const w = (prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0) / 1000;
    const id = prof.samples[i]!;
    const node = byId.get(id)!;
    const fn = node.callFrame.functionName;
    total += w;
    if (fn === '(idle)') {
      idle += w;
      continue;
    }
    if (fn === '(garbage collector)') gc += w;
    const mod = modOfNode(id);
    const fnKey = `${fn || '(anonymous)'} — ${mod}${node.callFrame.url ? ':' + (node.callFrame.lineNumber + 1) : ''}`;
    selfFn.set(fnKey, (selfFn.get(fnKey) ?? 0) + w);
    selfMod.set(mod, (selfMod.get(mod) ?? 0) + w);
    const seen = new Set<string>();
    let owner: string | undefined;
    for (let cur: number | undefined = id, guard = 0; cur !== undefined && guard < 10_000; cur = parent.get(cur), guard++) {
      const m = modOfNode(cur);
      if (owner === undefined && isOwner(m)) owner = m;
      if (m === '(root)' || seen.has(m)) continue;
      seen.add(m);
      if (isOwner(m)) inclMod.set(m, (inclMod.get(m) ?? 0) + w);
    }
    const o = owner ?? (fn === '(garbage collector)' || fn === '(program)' ? fn : `node internals (${mod})`);
    owners.set(o, (owners.get(o) ?? 0) + w);
  }
  const busy = total - idle;
  const rows = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, ms]) => ({ name, ms, pct: busy > 0 ? (100 * ms) / busy : 0 }));
  return { windowMs: total, busyMs: busy, idleMs: idle, gcMs: gc, functions: rows(selfFn), modulesSelf: rows(selfMod), owners: rows(owners), modulesInclusive: rows(inclMod) };
}

/** The profile's end on its own clock (µs), to place a window measured back from the process's exit. */
export async function profileEnd(file: string): Promise<{ startTime: number; endTime: number }> {
  const prof = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  return { startTime: prof.startTime, endTime: prof.endTime };
}
