import { BadRequestException, Inject, Injectable, Optional } from '@nestjs/common';
import os from 'node:os';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { domainOf, isMailbox } from '../common/address.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig } from '../config/config.schema.js';
import { EventLogService } from '../events/event-log.service.js';
import { MailLogService } from '../mail-log/mail-log.service.js';
import { SettingsInput, settingsFieldErrors, settingsInputSchema } from '../settings/dto/settings-input.js';
import { rebind } from '../settings/secret-binding.js';
import { SECRET_COLUMNS, SECRET_FIELDS, type SecretField, isSecretField, secretsInUse, unreadableReason } from '../settings/secret-fields.js';
import { SettingsEntity } from '../settings/settings.entity.js';
import { RelaySecrets, SettingsService } from '../settings/settings.service.js';
import { SettingsView, effectivePort } from '../settings/settings.view.js';
import { MxResolver, directNodemailerOptions, mailHosts, systemResolver } from './direct-transport.js';
import { OAuthTokenService } from './oauth/oauth-token.service.js';
import { OAuthError } from './oauth/token-endpoint.js';
import { failureKind } from './outcome.js';
import { RelayOptions, relayConnectionOptions, relayTransportAuth } from './relay-transport.js';
import { SmtpTranscript, TestStep } from './smtp-transcript.js';
import { MX_RESOLVER } from './transport.factory.js';
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

/** The settings a test runs on: the saved ones with the unsaved values laid over them. */
interface Effective {
  s: SettingsEntity;
  password?: string;
  /** Every relay secret in clear (the OAuth2 ones too), for the token request and redaction. */
  secrets: RelaySecrets;
  /** Stored secrets these settings need that this SECRET_KEY cannot open. */
  unreadable: SecretField[];
  heloName: string;
}

type Outcome = Omit<TestEmailResult, 'transcript' | 'elapsedMs' | 'unsaved'>;

/**
 * Sends a test message through exactly the transport real mail uses: for a relay,
 * nodemailerOptions (but one connection, not a pool); for direct delivery, the MX hosts of the
 * recipient's domain (mailHosts) with the options of DirectTransport. It answers with a
 * diagnosis: which step failed, what kind of failure, the server's reply and the transcript.
 */
@Injectable()
export class TestEmailService {
  constructor(
    private readonly settings: SettingsService,
    private readonly events: EventLogService,
    private readonly mailLog: MailLogService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly oauth: OAuthTokenService,
    @Optional() @Inject(MX_RESOLVER) private readonly resolver: MxResolver = systemResolver,
  ) {}

  async run(request: TestEmailRequest, actor: string): Promise<TestEmailResult> {
    const to = typeof request.to === 'string' ? request.to.trim() : '';
    const errors: Record<string, string> = {};
    if (!to || !isMailbox(to)) errors.to = 'must be an email address such as someone@example.com';
    let input: SettingsInput | undefined;
    if (request.settings !== undefined && request.settings !== null) {
      const parsed = settingsInputSchema.safeParse(request.settings);
      if (!parsed.success) for (const [k, v] of Object.entries(settingsFieldErrors(parsed.error))) errors[`settings.${k}`] = v;
      else input = parsed.data;
    }
    if (request.saveIfOk !== undefined && typeof request.saveIfOk !== 'boolean') errors.saveIfOk = 'must be true or false';
    if (Object.keys(errors).length) {
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'Invalid test email request: nothing was sent', fields: errors });
    }

    const eff = await this.effective(input);
    const transcript = new SmtpTranscript(Object.values(eff.secrets));
    const started = Date.now();
    const outcome = eff.s.relayHost ? await this.viaRelay(eff, to, transcript) : await this.direct(eff, to, transcript);
    const result: TestEmailResult = {
      ...outcome,
      reply: transcript.redact(outcome.reply),
      ...(outcome.error ? { error: transcript.redact(outcome.error) } : {}),
      elapsedMs: Date.now() - started,
      transcript: transcript.lines,
      unsaved: input !== undefined,
    };
    await this.record(result, to, eff, actor);
    if (request.saveIfOk === true && input !== undefined) {
      result.saved = result.ok;
      if (result.ok) result.settings = await this.settings.update(input, actor);
    }
    return result;
  }

  /**
   * The saved settings with the unsaved values laid over them. A stored secret is used only
   * with the host (or token endpoint) it was saved for: unsaved values that send one elsewhere
   * must give it again (400, nothing sent).
   */
  private async effective(input: SettingsInput | undefined): Promise<Effective> {
    const saved = await this.settings.get();
    const s: SettingsEntity = { ...saved };
    const { secrets, unreadable } = await this.settings.openSecrets();
    const given = SECRET_FIELDS.filter((field) => input?.[field] !== undefined && input[field] !== '');
    for (const [key, value] of Object.entries(input ?? {})) {
      if (!isSecretField(key)) (s as unknown as Record<string, unknown>)[key] = value;
    }
    const kept = SECRET_FIELDS.filter((field) => saved[SECRET_COLUMNS[field]] !== null && !given.includes(field));
    const { reenter, drop } = rebind(saved, s, kept);
    if (Object.keys(reenter).length) {
      const fields = Object.fromEntries(Object.entries(reenter).map(([field, reason]) => [`settings.${field}`, reason]));
      throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: 'Invalid test email request: nothing was sent', fields });
    }
    for (const field of drop) delete secrets[field];
    for (const field of given) {
      const value = input?.[field];
      if (value === null) delete secrets[field];
      else if (value) secrets[field] = field === 'password' ? value : value.trim();
    }
    const heloName = s.hostname || (input ? os.hostname() : await this.settings.heloName());
    const lost = secretsInUse(s).filter((field) => kept.includes(field) && unreadable.includes(field));
    return { s, password: secrets.password, secrets, unreadable: lost, heloName };
  }

  private message(eff: Effective, to: string) {
    const from = eff.s.fromAddress || eff.s.adminAddress || `postroom@${eff.heloName.includes('.') ? eff.heloName : 'localhost'}`;
    return {
      envelope: { from, to: [to] },
      from: { name: eff.s.fromName || 'Postroom', address: from },
      to,
      subject: TEST_SUBJECT,
      headers: { 'X-Postroom-Test': 'yes' },
      text:
        `This is a test email from Postroom on ${eff.heloName}.\n\n` +
        `It was sent ${eff.s.relayHost ? `through the relay ${eff.s.relayHost}:${effectivePort(eff.s)} (${eff.s.security})` : 'directly to the mail server of your domain'} ` +
        `at ${new Date().toISOString()}.\nIf you can read this, outgoing mail works.\n`,
    };
  }

  private async viaRelay(eff: Effective, to: string, transcript: SmtpTranscript): Promise<Outcome> {
    const s = eff.s;
    const relay = `${s.relayHost}:${effectivePort(s)}`;
    const oauth = s.authEnabled && s.authMethod === 'oauth2';
    const lost = eff.unreadable[0];
    if (lost) {
      // Nothing to send it with: the diagnosis says which secret to enter again.
      const reply = unreadableReason(lost);
      transcript.note(reply);
      return lost === 'password' ? { ok: false, code: 'auth_error', step: 'auth', reply, relay } : { ok: false, code: 'oauth_error', step: 'oauth', reply, relay };
    }
    let accessToken: string | undefined;
    if (oauth) {
      // The token request is its own step: shown without secrets, its failure is oauth_error.
      try {
        const { answer, request } = await this.oauth.requestOnce(s, eff.secrets);
        accessToken = answer.accessToken;
        transcript.addSecret(accessToken);
        transcript.note(`OAuth2 (${s.oauthProvider}): POST ${request.url} grant_type=${request.grantType} → ${answer.status}, access token for ${answer.expiresIn} s`);
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        transcript.note(`OAuth2 (${s.oauthProvider}): POST ${err.request.url || '(no token URL)'} grant_type=${err.request.grantType} → ${err.status ?? 'no answer'}: ${err.reply}`);
        return { ok: false, code: 'oauth_error', step: 'oauth', reply: err.reply, error: err.message, relay };
      }
    }
    const relayOptions: RelayOptions = {
      host: s.relayHost,
      port: effectivePort(s),
      security: s.security,
      tlsVerify: s.tlsVerify,
      auth: s.authEnabled && !oauth && eff.password !== undefined ? { user: s.username, pass: eff.password } : undefined,
      ...(accessToken !== undefined ? { oauth: { user: s.username, tokens: { token: async () => accessToken } } } : {}),
      heloName: eff.heloName,
      timeoutSeconds: s.timeoutSeconds,
      poolSize: 1,
    };
    // The connection and login of real delivery, on one connection whose log is the transcript.
    const options = { ...relayConnectionOptions(relayOptions), auth: relayTransportAuth(relayOptions), logger: transcript.logger, transactionLog: true };
    transcript.note(`Relay ${relay}, security ${s.security}${s.security !== 'none' ? `, certificate ${s.tlsVerify ? 'verified' : 'not verified'}` : ''}, SASL ${options.auth ? `${oauth ? 'XOAUTH2 ' : ''}as ${s.username}` : 'off'}`);
    return this.attempt(options as unknown as SMTPTransport.Options, eff, to, transcript, relay, s.security === 'tls');
  }

  private async direct(eff: Effective, to: string, transcript: SmtpTranscript): Promise<Outcome> {
    const domain = domainOf(to);
    transcript.note(`Direct delivery: looking up the MX hosts of ${domain}`);
    const found = await mailHosts(this.resolver, domain);
    if ('error' in found) {
      transcript.note(found.error.reply);
      return { ok: false, code: found.error.code !== null && found.error.code >= 500 ? 'rejected' : 'connection_error', step: 'dns', reply: found.error.reply, relay: domain };
    }
    transcript.note(`Mail hosts: ${found.hosts.join(', ')}`);
    const port = this.config.directPort;
    let last: Outcome | undefined;
    for (const host of found.hosts) {
      const relay = `${host}:${port}`;
      transcript.note(`Trying ${relay}`);
      const options: SMTPTransport.Options = {
        ...directNodemailerOptions(host, port, { heloName: eff.heloName, timeoutSeconds: eff.s.timeoutSeconds }),
        logger: transcript.logger,
        transactionLog: true,
      } as SMTPTransport.Options;
      transcript.phase = 'connect';
      transcript.connected = false;
      last = await this.attempt(options, eff, to, transcript, relay, false);
      // Like real delivery: the next MX only when this one did not answer (or answered 4xx).
      if (last.ok || last.code === 'rejected' || last.code === 'auth_error') break;
    }
    return last!;
  }

  private async attempt(options: SMTPTransport.Options, eff: Effective, to: string, transcript: SmtpTranscript, relay: string, implicitTls: boolean): Promise<Outcome> {
    const transporter = nodemailer.createTransport(options);
    try {
      const info = (await transporter.sendMail(this.message(eff, to))) as unknown as { response: string; rejected: unknown[]; rejectedErrors?: TransportError[] };
      if (info.rejected?.length) {
        const e = info.rejectedErrors?.[0];
        const reply = firstLine(e?.response) || transcript.lastServerLine;
        return { ok: false, code: 'rejected', step: 'rcpt', reply, error: e?.message, relay };
      }
      return { ok: true, step: 'done', reply: firstLine(info.response) || transcript.lastServerLine, relay };
    } catch (err) {
      const e = err as TransportError;
      const kind = failureKind(e);
      const code: TestFailureCode =
        kind === 'auth' ? 'auth_error' : kind === 'tls' ? 'tls_error' : kind === 'timeout' ? 'timeout' : kind === 'rejected' ? 'rejected' : 'connection_error';
      const step = stepOf(e, kind, transcript, implicitTls);
      const rejectedReply = e.rejectedErrors?.[0]?.response;
      const reply = firstLine(rejectedReply) || firstLine(e.response) || transcript.lastServerLine || e.message;
      transcript.note(`Error (${e.code ?? 'unknown'}${e.command ? `, after ${e.command}` : ''}): ${e.message}`);
      return { ok: false, code, step, reply, error: e.message, relay };
    } finally {
      transporter.close();
    }
  }

  /**
   * The event log (source 'settings', never the password) and the mail log. The mail log has
   * no event for a test: success is logged as 'sent' (subject "Postroom test email"), a failure
   * as 'deferred' with the reply. 'deferred' is the nearest existing event (the message was not
   * delivered and no bounce was sent); the entry has no queue id and the reply says it was a test
   * that is not retried, so nobody waits for a retry. 'bounced' would wrongly suggest a DSN.
   */
  private async record(result: TestEmailResult, to: string, eff: Effective, actor: string): Promise<void> {
    const via = eff.s.relayHost ? `relay ${result.relay}` : `direct delivery (${result.relay})`;
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
        elapsedMs: result.elapsedMs,
        unsavedSettings: result.unsaved,
      },
    });
    try {
      await this.mailLog.append([
        {
          queueId: null,
          messageId: null,
          event: result.ok ? 'sent' : 'deferred',
          sender: eff.s.fromAddress || eff.s.adminAddress || '',
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
