import type { AddressRow, DailyReport, ReasonRow } from './report.types.js';

/**
 * The report as plain text, in the spirit of pflogsumm: the same sections and numbers as the
 * JSON, exact (bytes are bytes, not "k"), in fixed-width columns.
 */
export function formatReportText(r: DailyReport): string {
  const out: string[] = [];
  const heading = (title: string) => out.push('', title, '-'.repeat(title.length));
  const n = (v: number, width = 8) => String(v).padStart(width);
  const t = r.totals;

  out.push(`Postroom report for ${r.date} (${r.timezone})`);

  heading('Grand Totals');
  out.push('messages', '');
  out.push(`${n(t.received)}   received`);
  out.push(`${n(t.notices)}   notices  (Postroom's own: bounces, delay warnings, digests, reports, alarms)`);
  out.push(`${n(t.delivered)}   delivered`);
  out.push(`${n(t.posted)}   posted to notification channels  (in no other total)`);
  out.push(`${n(t.deferred)}   deferred  (${t.deferrals} deferrals)`);
  out.push(`${n(t.bounced)}   bounced`);
  out.push(`${n(t.rejected)}   rejected`);
  out.push(`${n(t.held)}   held`);
  out.push(`${n(t.deleted)}   deleted`);
  out.push(`${n(t.tests)}   test emails`);
  out.push('');
  out.push(`${n(t.bytesReceived)}   bytes received`);
  out.push(`${n(t.bytesDelivered)}   bytes delivered`);
  out.push(`${n(t.senders)}   senders`);
  out.push(`${n(t.sendingHosts)}   sending hosts`);
  out.push(`${n(t.recipients)}   recipients`);
  out.push(`${n(t.recipientDomains)}   recipient domains`);

  heading('Per-Hour Traffic Summary');
  out.push(`    time        ${['received', 'delivered', 'deferred', 'bounced', 'rejected'].map((h) => h.padStart(10)).join('')}`);
  out.push('    ' + '-'.repeat(62));
  for (const h of r.hourly) {
    const from = String(h.hour).padStart(2, '0') + '00';
    const to = String((h.hour + 1) % 24).padStart(2, '0') + '00';
    out.push(`    ${from}-${to}   ${[h.received, h.delivered, h.deferred, h.bounced, h.rejected].map((v) => n(v, 10)).join('')}`);
  }

  heading('Host/Domain Summary: Message Delivery');
  if (r.domains.length === 0) out.push('none');
  else {
    out.push(` ${'sent'.padStart(7)} ${'bytes'.padStart(12)} ${'defers'.padStart(7)} ${'avg dly'.padStart(9)} ${'max dly'.padStart(9)}  host/domain`);
    out.push(' ' + '-'.repeat(7) + ' ' + '-'.repeat(12) + ' ' + '-'.repeat(7) + ' ' + '-'.repeat(9) + ' ' + '-'.repeat(9) + '  ' + '-'.repeat(11));
    for (const d of r.domains) {
      out.push(` ${n(d.sent, 7)} ${n(d.bytes, 12)} ${n(d.deferrals, 7)} ${delay(d.avgDelayMs).padStart(9)} ${delay(d.maxDelayMs).padStart(9)}  ${d.domain}`);
    }
  }

  addressSection(out, heading, 'Senders by message count', r.topSenders, 'count');
  addressSection(out, heading, 'Recipients by message count', r.topRecipients, 'count');
  addressSection(out, heading, 'Senders by message size', r.topSendersBySize, 'bytes');
  addressSection(out, heading, 'Recipients by message size', r.topRecipientsBySize, 'bytes');

  heading('Notification Channels');
  if (r.channels.length === 0) out.push('none');
  else {
    out.push(` ${'posted'.padStart(7)} ${'defers'.padStart(7)} ${'failed'.padStart(7)}  channel`);
    out.push(' ' + '-'.repeat(7) + ' ' + '-'.repeat(7) + ' ' + '-'.repeat(7) + '  ' + '-'.repeat(7));
    for (const c of r.channels) out.push(` ${n(c.posted, 7)} ${n(c.deferrals, 7)} ${n(c.failed, 7)}  ${oneLine(c.name)}${c.problem ? `  (${oneLine(c.problem)})` : ''}`);
  }

  reasonSection(out, heading, 'message deferral detail', r.problems.deferred);
  reasonSection(out, heading, 'message bounce detail', r.problems.bounced);
  reasonSection(out, heading, 'message reject detail', r.problems.rejected);

  for (const [title, rows] of [['Warnings', r.warnings], ['Errors', r.errors]] as const) {
    heading(title);
    if (rows.length === 0) out.push('none');
    for (const e of rows) out.push(`  ${e.at}  ${e.source}: ${oneLine(e.message)}`);
  }
  return out.join('\n') + '\n';
}

type Heading = (title: string) => void;

function addressSection(out: string[], heading: Heading, title: string, rows: AddressRow[], by: 'count' | 'bytes'): void {
  heading(title);
  if (rows.length === 0) out.push('none');
  for (const row of rows) out.push(`${String(by === 'count' ? row.count : row.bytes).padStart(by === 'count' ? 8 : 12)}   ${row.address || '<>'}`);
}

function reasonSection(out: string[], heading: Heading, title: string, rows: ReasonRow[]): void {
  heading(title);
  if (rows.length === 0) out.push('none');
  for (const row of rows) out.push(`${String(row.count).padStart(8)}   ${oneLine(row.reason)}`);
}

const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ');

/** A delay as pflogsumm writes it: seconds (s), minutes (m), hours (h) or days (d). */
export function delay(ms: number | null): string {
  if (ms === null) return '-';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} m`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}
