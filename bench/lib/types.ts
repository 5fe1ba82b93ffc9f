import type { ApplianceResult } from './appliance.js';
import type { LoadCase, LoadResult } from './load.js';
import type { OpsResult } from './ops.js';
import type { ProfileSummary } from './profile.js';
import type { LatencyResult } from './smtp-lite.js';

export type SystemKey = 'postfix' | 'postroom' | 'postroom-pg';

export const SYSTEM_LABEL: Record<SystemKey, string> = {
  postfix: 'Postfix',
  postroom: 'Postroom (embedded PostgreSQL)',
  'postroom-pg': 'Postroom (system PostgreSQL)',
};

export interface BenchConfig {
  runs: number;
  messages: number;
  messagesSingle: number;
  sizes: number[];
  sessions: number[];
  modes: ('reuse' | 'connect')[];
  systemPg: boolean;
  systemPgUrl: string;
  latencyRate: number;
  latencySeconds: number;
  big: boolean;
  bigBytes: number;
  ops: boolean;
  opsDeferred: number;
  opsLogRows: number;
  opsReads: number;
  profile: boolean;
  write: boolean;
  appliance: boolean;
  /** sendmail calls per round (the appliance section). */
  sendmailCalls: number;
  /** CLI calls per round (the appliance section). */
  cliCalls: number;
}

export interface CaseResult {
  c: LoadCase;
  runs: Partial<Record<SystemKey, LoadResult[]>>;
}

export interface BenchResults {
  startedAt: string;
  durationS: number;
  config: BenchConfig;
  machine: Record<string, string>;
  systems: SystemKey[];
  cases: CaseResult[];
  latency: Partial<Record<SystemKey, LatencyResult>>;
  peakRss: Partial<Record<SystemKey, number>>;
  big?: { bytes: number; baseHwm: number; baseRss: number; peakHwm: number; ms: number; wireBytes: number };
  ops?: OpsResult;
  profile?: { file: string; windows: { name: string; summary: ProfileSummary }[] };
  appliance?: ApplianceResult;
  notes: string[];
}
