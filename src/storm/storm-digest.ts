import { clockIn } from '../common/timezone.js';
import { StormReason } from './storm-guard.js';

export interface HeldMessage {
  id: string;
  subject: string;
  createdAt: Date;
}

export interface DigestText {
  subject: string;
  text: string;
  /** One line per subject: "42 × 'Pool degraded' since 10:03". */
  lines: string[];
}

const quote = (s: string) => `'${s.replace(/\s+/g, ' ').trim() || '(no subject)'}'`;

/** The digest that replaces a group of held messages (pure; times in the appliance's zone). */
export function digestText(input: {
  reason: StormReason;
  sender: string;
  recipients: string[];
  held: HeldMessage[];
  limit: number;
  windowMinutes: number;
  timeZone: string;
}): DigestText {
  const bySubject = new Map<string, { subject: string; count: number; first: Date; last: Date }>();
  for (const m of input.held) {
    const key = m.subject.replace(/\s+/g, ' ').trim().toLowerCase();
    const g = bySubject.get(key);
    if (!g) bySubject.set(key, { subject: m.subject, count: 1, first: m.createdAt, last: m.createdAt });
    else {
      g.count++;
      if (m.createdAt < g.first) g.first = m.createdAt;
      if (m.createdAt > g.last) g.last = m.createdAt;
    }
  }
  const groups = [...bySubject.values()].sort((a, b) => b.count - a.count || a.first.getTime() - b.first.getTime());
  const at = (d: Date) => clockIn(input.timeZone, d);
  const lines = groups.map((g) => `${g.count} × ${quote(g.subject)} since ${at(g.first)}`);
  const total = input.held.length;
  const first = groups.reduce((d, g) => (g.first < d ? g.first : d), groups[0]?.first ?? new Date());
  const subject = groups.length === 1 ? `[Postroom digest] ${lines[0]}` : `[Postroom digest] ${total} messages from ${input.sender || '<>'} held back since ${at(first)}`;
  const why =
    input.reason === 'duplicate'
      ? `more than ${input.limit} identical messages (same sender, recipients and subject) within ${input.windowMinutes} min`
      : `more than ${input.limit} messages a minute from this sender`;
  const text = [
    `Postroom held back ${total} message${total === 1 ? '' : 's'} from ${input.sender || '<>'} to ${input.recipients.join(', ')}:`,
    `alert-storm protection (${why}).`,
    '',
    ...groups.map((g, i) => `  ${lines[i]} (last at ${at(g.last)})`),
    '',
    input.reason === 'duplicate'
      ? `The first ${input.limit} were delivered as usual; the others follow in this digest, each as it was received, oldest first.`
      : `The first ${input.limit} of each minute were delivered as usual; the others follow in this digest, each as it was received, oldest first.`,
    `Their queue ids are in Postroom's event log, in the entry for this digest.`,
    '',
  ].join('\n');
  return { subject, text, lines };
}

/** Queue ids named in a digest's text at most; the event log has them all. */
const RELEASED_NAMED = 20;

/**
 * One digest of a group's series: the group's summary, then which of the held messages this one
 * carries (when the group needs several) and which went on their own (in the first one).
 */
export function digestPartText(
  d: DigestText,
  part: { index: number; of: number; from: number; to: number; total: number; released: string[]; maxBytes: number },
): { subject: string; text: string } {
  const extra: string[] = [];
  if (part.of > 1) extra.push(`This is digest ${part.index} of ${part.of}: it carries messages ${part.from}–${part.to} of the ${part.total} held.`);
  if (part.index === 1 && part.released.length > 0) {
    const named = part.released.slice(0, RELEASED_NAMED).join(', ') + (part.released.length > RELEASED_NAMED ? ` and ${part.released.length - RELEASED_NAMED} more` : '');
    const n = part.released.length;
    extra.push(`${n} held message${n === 1 ? ' was' : 's were'} too large to be carried in a digest (limit ${part.maxBytes} bytes) and ${n === 1 ? 'is' : 'are'} delivered on ${n === 1 ? 'its' : 'their'} own: ${named}.`);
  }
  if (part.from > part.to) extra.push('This digest carries no message: every held message is delivered on its own.');
  return {
    subject: part.of > 1 ? `${d.subject} (${part.index} of ${part.of})` : d.subject,
    text: extra.length ? `${d.text}${extra.join('\n')}\n` : d.text,
  };
}
