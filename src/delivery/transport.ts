import type { MessageData } from '../common/message-data.js';

/** What a transport reports for one message: who was accepted, who was refused and how. */
export interface SendResult {
  accepted: string[];
  rejected: { recipient: string; code: number | null; reply: string }[];
  /** The server's final reply (e.g. "250 2.0.0 Ok: queued as ..."). */
  reply: string;
  /** Where it went, for the mail log ("relay.example.com:587" or "mx.example.org[192.0.2.1]:25"). */
  relay: string;
  /** Per recipient (lower case), where it went and what that server said, when not `relay` and `reply` (direct delivery to several domains). */
  via?: Record<string, { relay: string; reply: string }>;
}

/** One way to hand a message on. The worker does not know which one it holds. */
export interface MailTransport {
  readonly description: string;
  send(envelope: { from: string; to: string[] }, raw: MessageData): Promise<SendResult>;
  close(): void;
}

/** A failure of the whole attempt (connection, TLS, authentication, a reply to MAIL or DATA). */
export interface TransportError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  relay?: string;
  /**
   * Already in the event log from where it arose (the OAuth2 token service writes one event per
   * failure episode): the worker and relay health do not write it again.
   */
  announced?: boolean;
  rejectedErrors?: { recipient?: string; responseCode?: number; response?: string; message: string }[];
}
