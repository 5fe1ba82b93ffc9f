import type { TestEmailResult } from '../../delivery/test-email.service.js';

const STEP_NAMES: Record<string, string> = {
  dns: 'DNS lookup of the mail hosts',
  oauth: 'OAuth2 token request',
  connect: 'connecting',
  greeting: 'waiting for the server greeting',
  ehlo: 'EHLO',
  starttls: 'STARTTLS',
  tls: 'TLS handshake',
  auth: 'authentication (AUTH)',
  mail: 'sender (MAIL FROM)',
  rcpt: 'recipient (RCPT TO)',
  data: 'message (DATA)',
  done: 'the server accepted the message',
};

const CODE_NAMES: Record<string, string> = {
  connection_error: 'connection error',
  oauth_error: 'OAuth2 token error',
  timeout: 'timeout',
  tls_error: 'TLS error',
  auth_error: 'authentication error',
  rejected: 'rejected by the server',
};

/** A test email's diagnosis as fragments/test-email/result shows it: the step and the failure in words, the transcript as one text. */
export function testResultView(result: TestEmailResult) {
  return {
    ...result,
    stepName: STEP_NAMES[result.step] ?? result.step,
    codeName: result.code ? (CODE_NAMES[result.code] ?? result.code) : undefined,
    transcriptText: result.transcript.join('\n'),
  };
}
