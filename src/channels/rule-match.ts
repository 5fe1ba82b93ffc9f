/**
 * A routing rule's `match`: validated when the rule is saved, compiled once per rule set, tested
 * for every message at intake. Pure functions.
 *
 * Patterns are case-insensitive JavaScript regular expressions compiled with the `i` flag only,
 * without `u`: patterns are written as most people know them (`\@`, `\-` and a lone `{` are
 * accepted) and read the way safe-regex2's parser reads them; case-insensitivity still covers
 * non-ASCII letters.
 *
 * Time bound. A per-evaluation `node:vm` timeout was measured and rejected: a compiled rule set
 * of three regexes run through `vm.Script#runInContext(ctx, { timeout })` cost 84-96 µs a
 * message (one call a message; 250-280 µs with one call per regex; 1.5-3 µs without the timeout,
 * so the cost is the watchdog), against 0.06-0.1 µs for plain `RegExp#test` (Node 20, 2 cores).
 * So the hot path is plain `RegExp#test` on text cut to a fixed length (MAX_SUBJECT,
 * MAX_ADDRESS), and the bound is set when the rule is saved: safe-regex2 refuses star height > 1
 * (`(a+)+`), and since that alone admits patterns that take seconds or forever on a long text
 * (`(a|a)*$`, `(\w|\d)+$`, `\s*\s*\s*$`, `.*a.*b`), each pattern is also run, under a vm timeout,
 * on long texts built from its own characters and refused when one takes over PROBE_LIMIT_MS.
 * The probe is a heuristic, not a proof: it finds the usual shapes, not every one. It runs when a
 * rule is saved (under 1 ms for a plain pattern, 10-20 ms for one like `.*error.*`), not when
 * the rule set is compiled, which must not hold intake up.
 */
import { BlockList, isIP } from 'node:net';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { isSeverity, severityRank, type Severity } from '../common/severity.js';

/** What a rule asks of a message; every field given must hold, an empty match matches all. */
export interface RuleMatch {
  sender?: string;
  recipient?: string;
  subject?: string;
  severity?: Severity;
  client?: string;
}

/** What intake knows of a message when it runs the rules. */
export interface MatchFacts {
  sender: string;
  recipients: string[];
  subject: string;
  severity: Severity;
  clientAddress: string | null;
}

/** A match compiled once; `test` is cheap. */
export interface CompiledMatch {
  test(f: MatchFacts): boolean;
}

/** Longest pattern source accepted. */
export const MAX_PATTERN_LENGTH = 500;
/** Longest subject a pattern sees (RFC 5322 line limit); the rest is not matched. */
export const MAX_SUBJECT = 998;
/** Longest address a pattern sees. */
export const MAX_ADDRESS = 320;
/** Longest a pattern may take on one probe text when the rule is saved. */
export const PROBE_LIMIT_MS = 25;

type PatternField = 'sender' | 'recipient' | 'subject';

const PATTERN_FIELDS: Record<PatternField, number> = { sender: MAX_ADDRESS, recipient: MAX_ADDRESS, subject: MAX_SUBJECT };
const PROBE_UNITS = ['a', '0', ' ', '.', '-', '_', '@'];
/** safe-regex2 (and its regexp parser, ~2 MiB) is loaded by the first rule saved, not at start. */
let safeRegex: ((source: string) => boolean) | undefined;
const isSafe = (source: string): boolean => (safeRegex ??= createRequire(import.meta.url)('safe-regex2') as (source: string) => boolean)(source);
const PROBE_SCRIPT = new vm.Script('for (const text of texts) re.test(text);');
let probeContext: vm.Context | undefined;

/** One reason per invalid field of a match (key = field name), empty when valid. */
export function matchProblems(m: RuleMatch): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const field of Object.keys(PATTERN_FIELDS) as PatternField[]) {
    const source = m[field];
    const problem = source === undefined ? undefined : patternProblem(source, PATTERN_FIELDS[field]);
    if (problem !== undefined) problems[field] = problem;
  }
  if (m.severity !== undefined && !isSeverity(m.severity)) problems.severity = 'must be info, warning or critical';
  if (m.client !== undefined && parseNetwork(m.client) === undefined) {
    problems.client = 'must be an IPv4 or IPv6 address or network in CIDR notation, like 192.168.1.0/24 or fd00::/8';
  }
  return problems;
}

/**
 * A match compiled once; `test` is cheap. Only what matchProblems admitted when the rule was
 * saved comes here: the slow-pattern probe is not run again (it may take a blocking moment);
 * a pattern or network that does not compile throws.
 */
export function compileMatch(m: RuleMatch): CompiledMatch {
  const checks: ((f: MatchFacts) => boolean)[] = [];
  if (m.sender !== undefined) {
    const sender = patternTest(m.sender, MAX_ADDRESS);
    checks.push((f) => sender(f.sender));
  }
  if (m.recipient !== undefined) {
    const recipient = patternTest(m.recipient, MAX_ADDRESS);
    checks.push((f) => f.recipients.some(recipient));
  }
  if (m.subject !== undefined) {
    const subject = patternTest(m.subject, MAX_SUBJECT);
    checks.push((f) => subject(f.subject));
  }
  if (m.severity !== undefined) checks.push(severityCheck(m.severity));
  if (m.client !== undefined) checks.push(clientCheck(m.client));
  return { test: (f) => checks.every((check) => check(f)) };
}

function patternProblem(source: string, maxText: number): string | undefined {
  if (source.length > MAX_PATTERN_LENGTH) return `must be at most ${MAX_PATTERN_LENGTH} characters`;
  let re: RegExp;
  try {
    re = new RegExp(source, 'i');
  } catch (error) {
    return `is not a valid regular expression: ${syntaxReason(error, source)}`;
  }
  if (!isSafe(source)) {
    return 'may backtrack catastrophically: nested repetition like (a+)+, more than 25 repetitions and lookbehind are refused';
  }
  if (isSlow(re, source, maxText)) {
    return `takes over ${PROBE_LIMIT_MS} ms on a long text: avoid overlapping repetition like (a|a)*, \\s*\\s* or .*a.*b`;
  }
  return undefined;
}

function syntaxReason(error: unknown, source: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const prefix = `Invalid regular expression: /${source}/i: `;
  return message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

/**
 * Texts that make ambiguous repetition backtrack: a unit repeated to the cut length, then a
 * misfit. Units: common characters, each character of the pattern, its words, and its letters
 * and digits but one (all of a chain like a.*b.*c but its end).
 */
function probeTexts(source: string, length: number): string[] {
  const alnums = [...new Set(source.toLowerCase().match(/[a-z0-9]/g))];
  const allButOne = alnums.length > 1 ? alnums.map((left) => alnums.filter((c) => c !== left).join('')) : [];
  const units = new Set([...PROBE_UNITS, ...source, ...(source.match(/[a-z0-9]{2,}/gi) ?? []), ...allButOne]);
  return [...units].map((unit) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length) + '\u0000');
}

/** Whether a pattern takes over PROBE_LIMIT_MS on one of its probe texts: all at once first, then one by one. */
function isSlow(re: RegExp, source: string, maxText: number): boolean {
  const texts = probeTexts(source, maxText);
  return !runsWithin(re, texts) && texts.some((text) => !runsWithin(re, [text]));
}

function runsWithin(re: RegExp, texts: string[]): boolean {
  probeContext ??= vm.createContext({});
  Object.assign(probeContext, { re, texts });
  try {
    PROBE_SCRIPT.runInContext(probeContext, { timeout: PROBE_LIMIT_MS });
    return true;
  } catch {
    return false;
  } finally {
    Object.assign(probeContext, { re: null, texts: null });
  }
}

function patternTest(source: string, maxText: number): (text: string) => boolean {
  const re = new RegExp(source, 'i');
  return (text) => re.test(text.length > maxText ? text.slice(0, maxText) : text);
}

function severityCheck(minimum: Severity): (f: MatchFacts) => boolean {
  const rank = severityRank(minimum);
  return (f) => severityRank(f.severity) >= rank;
}

function clientCheck(client: string): (f: MatchFacts) => boolean {
  const network = parseNetwork(client);
  if (network === undefined) throw new Error(`Invalid rule match: client ${client}`);
  const list = new BlockList();
  list.addSubnet(network.address, network.prefix, network.family);
  return ({ clientAddress }) => {
    if (clientAddress === null) return false;
    const family = familyOf(clientAddress);
    return family !== undefined && list.check(clientAddress, family);
  };
}

interface Network {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

function familyOf(address: string): 'ipv4' | 'ipv6' | undefined {
  const version = isIP(address);
  return version === 4 ? 'ipv4' : version === 6 ? 'ipv6' : undefined;
}

/** An address or a CIDR network (no zone index), or undefined when it is neither. */
function parseNetwork(value: string): Network | undefined {
  const [address = '', prefixText, ...rest] = value.split('/');
  const family = address.includes('%') ? undefined : familyOf(address);
  if (family === undefined || rest.length) return undefined;
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefixText === undefined) return { address, prefix: bits, family };
  if (!/^(0|[1-9][0-9]{0,2})$/.test(prefixText) || Number(prefixText) > bits) return undefined;
  return { address, prefix: Number(prefixText), family };
}
