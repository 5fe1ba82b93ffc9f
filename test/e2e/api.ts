import nodemailer from 'nodemailer';
import type { PostroomProcess } from '../helpers/postroom-process.js';

/** The JSON shapes of the API, as far as the end-to-end tests read them. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface QueueEntry {
  id: string;
  state: 'queued' | 'deferred' | 'hold' | 'sending';
  from: string;
  to: string[];
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
}

export interface MailLogEntry {
  id: string;
  at: string;
  subject: string | null;
  originalTo: string | null;
  queueId: string | null;
  event: 'received' | 'sent' | 'deferred' | 'bounced' | 'rejected' | 'held' | 'released' | 'deleted' | 'digested' | 'test';
  from: string;
  to: string;
  relay: string | null;
  attempt: number | null;
  reply: string | null;
  clientAddress: string | null;
  /** A refusal's stage, a hold's reason, the operator of a release or delete. */
  detail?: string | null;
  notice?: string | null;
}

export interface EventEntry {
  id: string;
  level: 'info' | 'warning' | 'error';
  source: string;
  message: string;
  details: Record<string, unknown>;
}

export async function mailLog(postroom: PostroomProcess, query: string): Promise<MailLogEntry[]> {
  const r = await postroom.api<Page<MailLogEntry>>('GET', `/api/v1/mail-log?limit=500&${query}`);
  if (r.status !== 200) throw new Error(`GET mail-log answered ${r.status}`);
  return r.body.items;
}

export async function queue(postroom: PostroomProcess, query = ''): Promise<QueueEntry[]> {
  const r = await postroom.api<Page<QueueEntry>>('GET', `/api/v1/queue?limit=500&${query}`);
  if (r.status !== 200) throw new Error(`GET queue answered ${r.status}`);
  return r.body.items;
}

export async function events(postroom: PostroomProcess, query: string): Promise<EventEntry[]> {
  const r = await postroom.api<Page<EventEntry>>('GET', `/api/v1/events?limit=500&${query}`);
  if (r.status !== 200) throw new Error(`GET events answered ${r.status}`);
  return r.body.items;
}

/** GET /api/v1/queue/:id: the entry, or undefined on 404. */
export async function queueEntry(postroom: PostroomProcess, id: string): Promise<QueueEntry | undefined> {
  const r = await postroom.api<QueueEntry>('GET', `/api/v1/queue/${id}`);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`GET queue/${id} answered ${r.status}`);
  return r.body;
}

/** Waits until the entry is in the given state (bounded) and returns it. */
export function untilState(postroom: PostroomProcess, id: string, state: QueueEntry['state'], timeoutMs?: number): Promise<QueueEntry> {
  return postroom.until(async () => {
    const e = await queueEntry(postroom, id);
    return e?.state === state ? e : undefined;
  }, `message ${id} to be ${state}`, timeoutMs);
}

/** Submits a message over SMTP with nodemailer; resolves with the queue id from the 250 reply. */
export async function submitSmtp(postroom: PostroomProcess, mail: { from: string; to: string | string[]; subject: string; text: string }): Promise<string> {
  const client = nodemailer.createTransport({ host: '127.0.0.1', port: postroom.smtpPort, secure: false, ignoreTLS: true });
  try {
    const info = await client.sendMail(mail);
    const id = /^250 .*queued as ([0-9A-Z]{17})/.exec(info.response)?.[1];
    if (!id) throw new Error(`unexpected reply: ${info.response}`);
    return id;
  } finally {
    client.close();
  }
}
