import type { SMTPConnectionOptions } from 'nodemailer/lib/smtp-connection/index.js';
import type { TransportError } from './transport.js';

/** Gives access tokens: a cached one while fresh; `force` when the server refused the last one. */
export interface AccessTokenSource {
  token(force?: boolean): Promise<string>;
}

/** How a pooled connection logs in, in a form that can cross to the delivery thread: a password, or XOAUTH2 with tokens asked of the main thread. */
export type PoolLogin = { user: string; pass: string } | { user: string; oauth2: true };

/** SmtpPool's options as the delivery thread receives them (nothing but data). */
export interface ThreadPoolOptions {
  connection: SMTPConnectionOptions;
  login?: PoolLogin;
  maxConnections: number;
  maxMessages: number;
  idleMs: number;
}

/** A recipient the server refused, as RelayTransport reads it. */
export interface Refusal {
  recipient?: string;
  responseCode?: number;
  response?: string;
  message: string;
}

/** What a pool reports for a message it sent: who was accepted, who refused, the final reply. */
export interface SentInfo {
  accepted: string[];
  rejectedErrors?: Refusal[];
  response: string;
}

/** The fields of a failed send that outcome classification and failover read. */
export type ErrorFields = Pick<TransportError, 'message' | 'code' | 'responseCode' | 'response' | 'command'> & { rejectedErrors?: Refusal[] };

export interface Envelope {
  from: string;
  to: string[];
}

/** Main thread → delivery thread. */
export type ToThread =
  | { type: 'open'; pool: number; options: ThreadPoolOptions }
  | { type: 'close'; pool: number }
  /** `data`: a copy of the message, transferred (a big one is sent from the main thread instead). */
  | { type: 'send'; pool: number; call: number; envelope: Envelope; data: Uint8Array }
  | { type: 'token'; request: number; token?: string; error?: ErrorFields }
  /** Shutdown: close the pools, finish the sends in flight, then exit. */
  | { type: 'end' };

/** Delivery thread → main thread. */
export type FromThread =
  /** `tid`: the thread's id in the kernel; `nice`: its priority as set, or null when the system did not allow it. */
  | { type: 'ready'; tid: number | null; nice: number | null }
  | { type: 'sent'; call: number; info: SentInfo }
  | { type: 'failed'; call: number; error: ErrorFields }
  | { type: 'token'; request: number; pool: number; renew: boolean };

const refusal = (e: Refusal): Refusal => ({ recipient: e.recipient, responseCode: e.responseCode, response: e.response, message: e.message });

export function errorFields(err: unknown): ErrorFields {
  const e = err as ErrorFields;
  return {
    message: e?.message ?? String(err),
    code: e?.code,
    responseCode: e?.responseCode,
    response: e?.response,
    command: e?.command,
    ...(e?.rejectedErrors ? { rejectedErrors: e.rejectedErrors.map(refusal) } : {}),
  };
}

export function errorOf(fields: ErrorFields): TransportError {
  const { message, ...rest } = fields;
  return Object.assign(new Error(message), rest);
}

export function sentInfo(info: SentInfo): SentInfo {
  return { accepted: info.accepted, response: info.response, ...(info.rejectedErrors ? { rejectedErrors: info.rejectedErrors.map(refusal) } : {}) };
}

/** A copy in an ArrayBuffer of its own, to transfer (not clone) to the other thread. */
export function transferableCopy(data: Uint8Array): Uint8Array {
  const copy = new Uint8Array(data.length);
  copy.set(data);
  return copy;
}
