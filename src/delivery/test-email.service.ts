import { Inject, Injectable } from '@nestjs/common';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type Mail from 'nodemailer/lib/mailer/index.js';
import type { SMTPConnectionAuth, SMTPConnectionOptions } from 'nodemailer/lib/smtp-connection/index.js';
import { domainOf, isMailbox } from '../common/address.js';
import { composeMail } from '../common/compose-mail.js';
import { InvalidInput } from '../common/domain-errors.js';
import { APP_CONFIG } from '../config/config.module.js';
import { isFullyQualified, mailNameWarning } from '../config/mail-name.js';
import { AppConfig } from '../config/config.schema.js';
import { EventLogService } from '../events/event-log.service.js';
import { MailLogService } from '../mail-log/mail-log.service.js';
import { deliveryRelay } from '../relays/delivery-relay.js';
import { PrimaryRelayService } from '../relays/primary-relay.service.js';
import { planSecrets } from '../relays/relay-credentials.js';
import { unreadableReason } from '../relays/relay-secrets.js';
import type { Security } from '../relays/relay.entity.js';
import { OpenedRelay, RelaysService } from '../relays/relays.service.js';
import { settingsFieldErrors, settingsInputSchema } from '../settings/dto/settings-input.js';
import { overlay } from '../settings/settings-change.js';
import type { SettingsInput } from '../settings/settings-fields.js';
import type { SettingsEntity } from '../settings/settings.entity.js';
import { SettingsService } from '../settings/settings.service.js';
import { SettingsView } from '../settings/settings.view.js';
import { MxResolver, mailHosts, tryMailServers } from './direct-transport.js';
import { OAuthTokenService } from './oauth/oauth-token.service.js';
import { OAuthError } from './oauth/token-endpoint.js';
import { failureKind } from './outcome.js';
import { poolAuth } from './pool-login.js';
import { poolLogin } from './relay-transport.js';
import { sendOnce } from './smtp-session.js';
import type { AccessTokenSource } from './smtp-thread.protocol.js';
import { SmtpTranscript, TestStep } from './smtp-transcript.js';
import { MX_RESOLVER } from './transport.factory.js';
import { ConnectionSettings, connectionSettings, directConnectionOptions, relayConnectionOptions, relayOptions } from './transport-options.js';
import { TransportError } from './transport.js';

export type TestFailureCode = 'oauth_error' | 'connection_error' | 'timeout' | 'tls_error' | 'auth_error' | 'rejected';

export const TEST_SUBJECT = 'Postroom test email';

/** The diagnosis of one test email. */
export interface TestEmailResult {
  ok: boolean;
  /** Absent when ok. */
  code?: TestFailureCode;
  step: TestStep;
  /** The server's last reply line; when the server never answered, the error (e.g. "connect ECONNREFUSED ..."). */
  reply: string;
  elapsedMs: number;
  /** The SMTP conversation, AUTH payloads and the password redacted. */
  transcript: string[];
  /** nodemailer's error message, when it failed. */
  error?: string;
  /** Where it went: "host:port" of the relay or the MX tried last. */
  relay: string;
  /** Whether unsaved settings values were tested. */
  unsaved: boolean;
  /** With saveIfOk: whether the tested values were saved, and the settings now. */
  saved?: boolean;
  settings?: SettingsView;
}

export interface TestEmailRequest {
  to: unknown;
  /** Settings values to test instead of the saved ones (same shape as PUT /api/v1/settings). */
  settings?: unknown;
  /** Save `settings` when the test succeeds. */
  saveIfOk?: unknown;
}

/** What a test sends with: the settings row (saved, or with unsaved values laid over it) and a relay with its secrets, or none (direct delivery). */
interface TestSetup {
  settings: SettingsEntity;
  relay?: OpenedRelay;
  unsaved: boolean;
}

type Outcome = Omit<TestEmailResult, 'transcript' | 'elapsedMs' | 'unsaved'>;

/**
 * Sends a test message the way real mail goes, with the options of transport-options.ts (on one
 * connection, not a pool): through a relay — the primary, as the settings are or with unsaved
 * values, or any relay by its id — or, with no primary relay host, to the MX hosts of the
 * recipient's domain with direct delivery's MX loop (tryMailServers). It answers with a
 * diagnosis: which step failed, what kind of failure, the server's reply and the transcript.
 */
@Injectable()
export class TestEmailService {
  constructor(
    private readonly settings: SettingsService,
    private readonly primary: PrimaryRelayService,
    private readonly relays: RelaysService,
    private readonly events: EventLogService,
    private readonly mailLog: MailLogService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly oauth: OAuthTokenService,
    @Inject(MX_RESOLVER) private readonly resolver: MxResolver,
  ) {}

  /** POST /api/v1/settings/test: through the primary relay (or direct delivery), as saved or with the unsaved values in `settings`. */
  async run(request: TestEmailRequest, actor: string): Promise<TestEmailResult> {
    const errors: Record<string, string> = {};
    const to = recipient(request.to, errors);
    let input: SettingsInput | undefined;
    if (request.settings !== undefined && request.settings !== null) {
      const parsed = settingsInputSchema.safeParse(request.settings);
      if (!parsed.success) for (const [k, v] of Object.entries(settingsFieldErrors(parsed.error))) errors[`settings.${k}`] = v;
      else input = parsed.data;
    }
    if (request.saveIfOk !== undefined && typeof request.saveIfOk !== 'boolean') errors.saveIfOk = 'must be true or false';
    if (Object.keys(errors).length) throw invalid(errors);

    const result = await this.test(await this.settingsSetup(input), to, actor);
    if (request.saveIfOk === true && input !== undefined) {
      result.saved = result.ok;
      if (result.ok) result.settings = await this.settings.update(input, actor);
    }
    return result;
  }

  /** POST /api/v1/relays/:id/test: through one saved relay (the primary or a backup, enabled or not); 404 for an unknown id. */
  async runOnRelay(id: string, request: { to: unknown }, actor: string): Promise<TestEmailResult> {
    const errors: Record<string, string> = {};
    const to = recipient(request.to, errors);
    if (Object.keys(errors).length) throw invalid(errors);
    const relay = await this.relays.opened(id);
    return this.test({ settings: await this.settings.get(), relay, unsaved: false }, to, actor);
  }

  /**
   * The saved settings with the unsaved values laid over them. A stored secret is used only
   * with the host (or token endpoint) it was saved for: unsaved values that send one elsewhere
   * must give it again (400, nothing sent).
   */
  private async settingsSetup(input: SettingsInput | undefined): Promise<TestSetup> {
    const current = await this.settings.rows();
    const { next } = overlay(current, input ?? {});
    const plan = planSecrets(current.primary, next.primary, input ?? {});
    if (Object.keys(plan.reenter).length) {
      throw invalid(Object.fromEntries(Object.entries(plan.reenter).map(([field, reason]) => [`settings.${field}`, reason])));
    }
    const saved = await this.primary.openSecrets(current.primary);
    const secrets = { ...saved.secrets };
    for (const field of [...plan.cleared, ...plan.dropped]) delete secrets[field];
    Object.assign(secrets, plan.set);
    // A secret given for the test replaces one this SECRET_KEY cannot open.
    const opened = { secrets, unreadable: saved.unreadable.filter((field) => plan.kept.includes(field)) };
    return { settings: next.settings, ...(next.primary.host ? { relay: { row: next.primary, opened } } : {}), unsaved: input !== undefined };
  }

  private async test(setup: TestSetup, to: string, actor: string): Promise<TestEmailResult> {
    const transcript = new SmtpTranscript(Object.values(setup.relay?.opened.secrets ?? {}));
    const connection = connectionSettings(setup.settings);
    const started = Date.now();
    const nameWarning = mailNameWarning(connection.heloName, setup.settings.hostname !== '');
    if (nameWarning) transcript.note(`Warning: ${nameWarning}`);
    const outcome = setup.relay ? await this.viaRelay(setup, setup.relay, connection, to, transcript) : await this.direct(setup, connection, to, transcript);
    const result: TestEmailResult = {
      ...outcome,
      reply: transcript.redact(outcome.reply),
      ...(outcome.error ? { error: transcript.redact(outcome.error) } : {}),
      elapsedMs: Date.now() - started,
      transcript: transcript.lines,
      unsaved: setup.unsaved,
    };
    await this.record(result, to, setup, actor);
    return result;
  }

  private message(setup: TestSetup, heloName: string, to: string): Mail.Options {
    const s = setup.settings;
    const from = s.fromAddress || s.adminAddress || `postroom@${isFullyQualified(heloName) ? heloName : 'localhost'}`;
    const via = setup.relay ? deliveryRelay(setup.relay.row, setup.relay.opened) : undefined;
    return {
      envelope: { from, to: [to] },
      from: { name: s.fromName || 'Postroom', address: from },
      to,
      subject: TEST_SUBJECT,
      headers: { 'X-Postroom-Test': 'yes' },
      text:
        `This is a test email from Postroom on ${heloName}.\n\n` +
        `It was sent ${via ? `through the relay ${via.host}:${via.port} (${via.security})` : 'directly to the mail server of your domain'} ` +
        `at ${new Date().toISOString()}.\nIf you can read this, outgoing mail works.\n`,
    };
  }

  private async viaRelay(setup: TestSetup, { row, opened }: OpenedRelay, connection: ConnectionSettings, to: string, transcript: SmtpTranscript): Promise<Outcome> {
    const relay = deliveryRelay(row, opened);
    const where = `${relay.host}:${relay.port}`;
    if (relay.unusable) {
      // Nothing to send it with: the diagnosis says which secret to enter again.
      const reply = unreadableReason(relay.unusable);
      transcript.note(reply);
      return relay.unusable === 'password' ? { ok: false, code: 'auth_error', step: 'auth', reply, relay: where } : { ok: false, code: 'oauth_error', step: 'oauth', reply, relay: where };
    }
    let tokens: AccessTokenSource | undefined;
    if (relay.oauth) {
      // The token request is its own step: shown without secrets, its failure is oauth_error.
      try {
        const { answer, request } = await this.oauth.requestOnce(row, opened.secrets, connection.timeoutSeconds);
        transcript.addSecret(answer.accessToken);
        transcript.note(`OAuth2 (${row.oauthProvider}): POST ${request.url} grant_type=${request.grantType} → ${answer.status}, access token for ${answer.expiresIn} s`);
        tokens = { token: async () => answer.accessToken };
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        transcript.note(`OAuth2 (${row.oauthProvider}): POST ${err.request.url || '(no token URL)'} grant_type=${err.request.grantType} → ${err.status ?? 'no answer'}: ${err.reply}`);
        return { ok: false, code: 'oauth_error', step: 'oauth', reply: err.reply, error: err.message, relay: where };
      }
    }
    const options = relayOptions(relay, { ...connection, poolSize: 1 }, tokens);
    // The connection and login of real delivery, on one connection whose log is the transcript.
    const auth = poolAuth(poolLogin(options), (renew) => (tokens ? tokens.token(renew) : Promise.reject(new Error('no token source'))));
    const connectionOptions = { ...relayConnectionOptions(options), logger: transcript.logger, transactionLog: true } as SMTPConnectionOptions;
    transcript.note(
      `Relay ${where}, security ${relay.security}${relay.security !== 'none' ? `, certificate ${relay.tlsVerify ? 'verified' : 'not verified'}` : ''}, SASL ${auth ? `${relay.oauth ? 'XOAUTH2 ' : ''}as ${row.username}` : 'off'}`,
    );
    // Without TLS from the first byte, a port that waits for a TLS handshake gives no greeting: a probe finds it out before the timeout.
    const probe = relay.security !== 'tls' ? { host: options.host, port: options.port, afterMs: Math.min(PROBE_AFTER_MS, (connection.timeoutSeconds * 1000) / 2) } : undefined;
    return this.attempt(connectionOptions, auth, this.message(setup, connection.heloName, to), transcript, where, relay.security, probe);
  }

  private async direct(setup: TestSetup, connection: ConnectionSettings, to: string, transcript: SmtpTranscript): Promise<Outcome> {
    const domain = domainOf(to);
    transcript.note(`Direct delivery: looking up the MX hosts of ${domain}`);
    const found = await mailHosts(this.resolver, domain);
    if ('error' in found) {
      transcript.note(found.error.reply);
      return { ok: false, code: found.error.code !== null && found.error.code >= 500 ? 'rejected' : 'connection_error', step: 'dns', reply: found.error.reply, relay: domain };
    }
    transcript.note(`Mail hosts: ${found.hosts.join(', ')}`);
    const port = this.config.directPort;
    const message = this.message(setup, connection.heloName, to);
    let last: Outcome | undefined;
    const tried = await tryMailServers<Outcome>(this.resolver, found.hosts, async ({ host, address, where }) => {
      const relay = `${where}:${port}`;
      transcript.note(`Trying ${relay}`);
      transcript.phase = 'connect';
      transcript.connected = false;
      const options = { ...directConnectionOptions(address, port, connection, host), logger: transcript.logger, transactionLog: true } as SMTPConnectionOptions;
      last = await this.attempt(options, undefined, message, transcript, relay, 'starttls');
      // Like real delivery: the next server only when this one did not answer (or answered 4xx).
      return last.ok || last.code === 'rejected' || last.code === 'auth_error' ? { final: last } : { next: last.reply };
    });
    if ('final' in tried) return tried.final;
    const reply = `no mail server of ${domain} took the message on port ${port} (${tried.failures.join('; ')})`;
    transcript.note(reply);
    return last ?? { ok: false, code: 'connection_error', step: 'dns', reply, relay: domain };
  }

  /**
   * One message on one connection, as delivery sends it (sendOnce: the login rule, SIZE and
   * BODY=8BITMIME, QUIT at the end whatever happened), the transcript following along.
   */
  private async attempt(
    options: SMTPConnectionOptions,
    auth: SMTPConnectionAuth | undefined,
    message: Mail.Options,
    transcript: SmtpTranscript,
    relay: string,
    security: Security,
    probe?: { host: string; port: number; afterMs: number },
  ): Promise<Outcome> {
    const raw = await composeMail(message);
    const envelope = message.envelope as { from: string; to: string[] };
    const abort = new AbortController();
    const unwatch = probe ? watchGreeting(probe, transcript, abort) : undefined;
    try {
      const info = (await sendOnce({ connection: options, auth, signal: abort.signal, quitWaitMs: QUIT_WAIT_MS }, envelope, raw)) as unknown as {
        response: string;
        rejected: unknown[];
        rejectedErrors?: TransportError[];
      };
      if (info.rejected?.length) {
        const e = info.rejectedErrors?.[0];
        const reply = firstLine(e?.response) || transcript.lastServerLine;
        return { ok: false, code: 'rejected', step: 'rcpt', reply, error: e?.message, relay };
      }
      return { ok: true, step: 'done', reply: firstLine(info.response) || transcript.lastServerLine, relay };
    } catch (err) {
      const e = err as TransportError & { hint?: string };
      const kind = failureKind(e);
      const code: TestFailureCode =
        kind === 'auth' ? 'auth_error' : kind === 'tls' ? 'tls_error' : kind === 'timeout' ? 'timeout' : kind === 'rejected' ? 'rejected' : 'connection_error';
      const step = e.hint === EXPECTS_TLS ? 'greeting' : stepOf(e, kind, transcript, security === 'tls');
      const rejectedReply = e.rejectedErrors?.[0]?.response;
      // A TLS failure's reply is its reason: the server's last line would be "220 Ready to start TLS".
      const reply = kind === 'tls' ? tlsReason(e, security) : firstLine(rejectedReply) || firstLine(e.response) || transcript.lastServerLine || e.message;
      transcript.note(`Error (${e.code ?? 'unknown'}${e.command ? `, after ${e.command}` : ''}): ${e.message}`);
      return { ok: false, code, step, reply, error: e.message, relay };
    } finally {
      unwatch?.();
    }
  }

  /**
   * The event log (source 'settings', never the password) and the mail log, as a `test` line: a
   * diagnosis, not traffic, so the day's totals leave it out (the report counts it under
   * `tests`). The reply says whether it worked; a failure says it is not retried.
   */
  private async record(result: TestEmailResult, to: string, setup: TestSetup, actor: string): Promise<void> {
    const via = setup.relay ? `relay ${result.relay}` : `direct delivery (${result.relay})`;
    await this.events.recordSafely({
      level: result.ok ? 'info' : 'error',
      source: 'settings',
      message: result.ok
        ? `Test email to ${to} sent via ${via} in ${result.elapsedMs} ms: ${result.reply}`
        : `Test email to ${to} failed at ${result.step} (${result.code}) via ${via}: ${result.reply}`,
      details: {
        actor,
        to,
        ok: result.ok,
        ...(result.code ? { code: result.code } : {}),
        step: result.step,
        reply: result.reply,
        ...(result.error ? { error: result.error } : {}),
        relay: result.relay,
        ...(setup.relay ? { relayId: deliveryRelay(setup.relay.row, setup.relay.opened).key } : {}),
        elapsedMs: result.elapsedMs,
        unsavedSettings: result.unsaved,
      },
    });
    try {
      await this.mailLog.append([
        {
          queueId: null,
          messageId: null,
          event: 'test',
          sender: setup.settings.fromAddress || setup.settings.adminAddress || '',
          recipient: to,
          relay: result.relay,
          size: 0,
          delayMs: result.elapsedMs,
          attempt: 1,
          reply: result.ok ? result.reply : `test email failed at ${result.step} (${result.code}), not retried: ${result.reply}`,
          subject: TEST_SUBJECT,
        },
      ]);
    } catch {
      // The mail log must not hide the diagnosis; the event log has it.
    }
  }
}

/** The test's recipient, or a reason under `to`. */
function recipient(value: unknown, errors: Record<string, string>): string {
  const to = typeof value === 'string' ? value.trim() : '';
  if (!to || !isMailbox(to)) errors.to = 'must be an email address such as someone@example.com';
  return to;
}

function invalid(fields: Record<string, string>): InvalidInput {
  return new InvalidInput('Invalid test email request: nothing was sent', fields);
}

const SPEAKS_STARTTLS = 'this port speaks STARTTLS: choose STARTTLS';
const EXPECTS_TLS = 'this port expects TLS at once: choose TLS';

/** After this long without a greeting (or half the timeout, if shorter), a port is probed for TLS. */
const PROBE_AFTER_MS = 2_000;
/** How long the test waits for the reply to QUIT, so that the transcript ends with it. */
const QUIT_WAIT_MS = 1_000;

/**
 * STARTTLS or no TLS against a port that expects TLS at once: the server says nothing, waiting
 * for a handshake, while the client waits for a greeting until its timeout. When no greeting has
 * come after `afterMs`, a second connection tries a TLS handshake; if the server completes it,
 * the attempt ends with that diagnosis. Returns the clean-up.
 */
function watchGreeting(probe: { host: string; port: number; afterMs: number }, transcript: SmtpTranscript, abort: AbortController): () => void {
  let socket: ReturnType<typeof tlsConnect> | undefined;
  const timer = setTimeout(() => {
    if (!transcript.connected || transcript.lastServerLine !== '') return;
    const host = probe.host.replace(/^\[(.*)\]$/, '$1');
    socket = tlsConnect({ host, port: probe.port, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) });
    socket.setTimeout(probe.afterMs, () => socket?.destroy());
    socket.on('error', () => undefined);
    socket.once('secureConnect', () => {
      socket?.destroy();
      if (transcript.lastServerLine !== '') return;
      transcript.note(`No greeting after ${probe.afterMs} ms, and a second connection to ${probe.host}:${probe.port} completed a TLS handshake`);
      abort.abort(Object.assign(new Error(`no greeting: the server waits for a TLS handshake — ${EXPECTS_TLS}`), { code: 'ETLS', command: 'CONN', hint: EXPECTS_TLS }));
    });
  }, probe.afterMs);
  return () => {
    clearTimeout(timer);
    socket?.destroy();
  };
}

/**
 * The reason of a TLS failure: the server's refusal of STARTTLS, or the handshake's own error
 * ("self-signed certificate", "Hostname/IP does not match certificate's altnames: ..."), with a
 * hint when the security setting does not match what the port speaks.
 */
function tlsReason(e: TransportError & { hint?: string }, security: Security): string {
  if (e.hint) return e.message;
  if (e.response) return firstLine(e.response);
  const reason = firstLine(e.message.replace(/^Error initiating TLS - /, ''));
  // OpenSSL's answer to a plain-text greeting where a handshake was expected.
  if (security === 'tls' && /wrong version number|packet length too long|unknown protocol/i.test(reason)) {
    return `${/wrong version number/i.test(reason) ? 'wrong version number' : reason} (the server answered in plain text) — ${SPEAKS_STARTTLS}`;
  }
  return reason;
}

function firstLine(text: string | undefined | null): string {
  return (text ?? '').split(/\r?\n/).find((l) => l.trim() !== '')?.trim() ?? '';
}

/** Which step failed: nodemailer's command when it names one, else how far the conversation got. */
function stepOf(e: TransportError, kind: ReturnType<typeof failureKind>, t: SmtpTranscript, implicitTls: boolean): TestStep {
  if (kind === 'dns') return 'dns';
  if (kind === 'auth') return 'auth';
  if (kind === 'tls') return implicitTls && !t.connected ? 'tls' : 'starttls';
  if (e.rejectedErrors?.length) return 'rcpt';
  const command = (e.command ?? '').toUpperCase();
  if (command.startsWith('RCPT')) return 'rcpt';
  if (command.startsWith('MAIL')) return 'mail';
  if (command === 'DATA' || command === 'DATA.' || command === '.') return 'data';
  if (command.startsWith('AUTH')) return 'auth';
  if (command === 'STARTTLS') return 'starttls';
  if (command === 'EHLO' || command === 'HELO' || command === 'LHLO') return 'ehlo';
  if (kind === 'timeout') return t.connected ? (t.phase === 'connect' ? 'greeting' : t.phase) : 'connect';
  if (implicitTls && !t.connected && kind === 'connection' && /ECONNRESET|socket disconnected|TLS/i.test(e.message)) return 'tls';
  return t.connected ? t.phase : 'connect';
}
