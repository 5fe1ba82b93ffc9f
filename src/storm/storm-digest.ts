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
      ? `The first ${input.limit} were delivered as usual; the others are summarised here instead.`
      : `The first ${input.limit} of each minute were delivered as usual; the others are summarised here instead.`,
    `Their queue ids are in Postroom's event log, in the entry for this digest.`,
    '',
  ].join('\n');
  return { subject, text, lines };
}
