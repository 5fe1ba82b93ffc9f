import type { QueueEntryView } from '../queue/queue.view.js';

/** The queue listing in the layout of Postfix's mailq. Pure, for its own tests. */
export function formatMailq(items: QueueEntryView[], more: boolean): string {
  if (items.length === 0) return 'Mail queue is empty\n';
  const lines = ['-Queue ID-------- --Size-- ----Arrival Time---- -Sender/Recipient-------'];
  let bytes = 0;
  for (const m of items) {
    bytes += m.size;
    const mark = m.state === 'hold' ? '!' : m.state === 'sending' ? '*' : ' ';
    const arrival = new Date(m.createdAt).toUTCString().slice(0, 25);
    lines.push(`${m.id}${mark}${String(m.size).padStart(8)} ${arrival.padEnd(20)} ${m.from || '<>'}`);
    if (m.lastError) lines.push(`${' '.repeat(40)}(${m.lastError.slice(0, 200)})`);
    for (const rcpt of m.to) lines.push(`${' '.repeat(40)}${rcpt}`);
    lines.push('');
  }
  lines.push(`-- ${Math.ceil(bytes / 1024)} Kbytes in ${items.length} Request${items.length === 1 ? '' : 's'}${more ? ' (more: use --all)' : ''}.`);
  return lines.join('\n') + '\n';
}
