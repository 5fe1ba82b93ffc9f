import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { SMTPServer, SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { PromptSmtpServer, Refusal } from './prompt-smtp-server.js';
import { isAddressOrLocalName } from '../common/address.js';
import { Batcher } from '../common/batcher.js';
import { APP_CONFIG } from '../config/config.module.js';
import { AppConfig, allowedNetworkList } from '../config/config.schema.js';
import { PgNotifier } from '../database/pg-notifier.js';
import { EventLogService } from '../events/event-log.service.js';
import { ROOT_LOGGER } from '../logging/logging.module.js';
import { MailLogService, NewMailLogEntry } from '../mail-log/mail-log.service.js';
import { SettingsService } from '../settings/settings.service.js';
import { IntakeService } from './intake.service.js';
import { LocalMailService } from './local-mail.service.js';
import { MessageRefused } from './message-hygiene.js';
import type { Expiry } from './smtp-deadline.js';

/** An error whose responseCode smtp-server turns into the SMTP reply. */
function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

const unmapped = (address: string): string => address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

/**
 * The local SMTP listener. It answers 250 with the queue id only after the message is
 * committed; 451 when the database cannot take it; 552 over the size limit; 554 to a message
 * intake refuses (message-hygiene.ts); 421 to a session past its deadlines (smtp-deadline.ts).
 */
@Injectable()
export class SmtpListenerService implements OnApplicationShutdown {
  private server?: SMTPServer;
  private readonly allowed;
  private readonly perClient = new Map<string, number>();
  private readonly log: Logger;
  private listening = false;
  /** Rejection lines, written off the reply's path: one INSERT for whatever a burst of refusals brings. */
  private readonly rejections: Batcher<NewMailLogEntry, null>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(ROOT_LOGGER) root: Logger,
    private readonly intake: IntakeService,
    private readonly settings: SettingsService,
    private readonly events: EventLogService,
    private readonly mailLog: MailLogService,
    private readonly localMail: LocalMailService,
    notifier: PgNotifier,
  ) {
    this.log = root.child({ module: 'listener' });
    // The greeting and EHLO name follow the hostname setting (smtp-server reads it per connection).
    notifier.on('postroom_settings', () => {
      void this.settings.heloName().then(
        (name) => {
          if (this.server) this.server.options.name = name;
        },
        () => undefined,
      );
    });
    this.allowed = allowedNetworkList(config.smtp.allowedNetworks);
    this.rejections = new Batcher(
      async (lines) => {
        await this.mailLog.append(lines);
        return lines.map(() => null);
      },
      { maxBatch: 500, maxConcurrent: 1 },
    );
  }

  get isListening(): boolean {
    return this.listening;
  }

  get address(): string {
    return `${this.config.smtp.host}:${this.config.smtp.port}`;
  }

  async start(): Promise<void> {
    const limits = this.config.smtp;
    const deadlines = {
      limits: { sessionMs: limits.sessionDeadlineSeconds * 1000, dataMs: limits.dataDeadlineSeconds * 1000, minDataRate: limits.minDataRate },
      onExpire: (session: SMTPServerSession, why: Expiry, inData: boolean) => this.onDeadline(session, why, inData),
      onRefused: (session: SMTPServerSession, refusal: Refusal) => this.onRefused(session, refusal),
    };
    const server = new PromptSmtpServer({
      name: await this.settings.heloName(),
      banner: 'Postroom ESMTP',
      size: limits.maxMessageBytes,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      maxClients: limits.maxSessions,
      socketTimeout: 60_000,
      closeTimeout: 5_000,
      logger: false,
      // Local clients: the Received header names the IP; a PTR look-up per session only adds latency.
      disableReverseLookup: true,
      onConnect: (session, cb) => this.onConnect(session, cb),
      onClose: (session) => this.onClose(session),
      // Answered once the current call has returned (a microtask, not a whole event-loop turn):
      // when both answer synchronously, smtp-server stops reading a session that pipelines whole
      // messages after the second one.
      onMailFrom: (address, _session, cb) => queueMicrotask(() => void this.onMailFrom(address, cb)),
      onRcptTo: (address, session, cb) => queueMicrotask(() => void this.onRcptTo(address, session, cb)),
      onData: (stream, session, cb) => this.onData(stream, session, cb),
    }, deadlines);
    server.on('error', (err) => this.log.error({ err }, 'SMTP server error'));
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.server.once('error', onError);
      server.listen(limits.port, limits.host, () => {
        server.server.off('error', onError);
        resolve();
      });
    });
    this.server = server;
    this.listening = true;
    await this.events.recordSafely({ level: 'info', source: 'listener', message: `SMTP listener bound to ${this.address}`, details: { host: limits.host, port: limits.port, allowedNetworks: limits.allowedNetworks } });
  }

  /** Stops accepting new sessions and lets current ones finish (up to closeTimeout, then drops them unacknowledged). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.listening = false;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  onApplicationShutdown(): Promise<void> {
    return this.stop();
  }

  private onConnect(session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    const address = unmapped(session.remoteAddress);
    const family = address.includes(':') ? 'ipv6' : 'ipv4';
    if (!this.allowed.check(address, family)) {
      return cb(smtpError(554, `5.7.1 ${address} is not allowed to use this server`));
    }
    const n = (this.perClient.get(address) ?? 0) + 1;
    if (n > this.config.smtp.maxSessionsPerClient) {
      return cb(smtpError(421, '4.7.0 Too many connections from your address, try again later'));
    }
    this.perClient.set(address, n);
    (session as SMTPServerSession & { counted?: boolean }).counted = true;
    cb();
  }

  private onClose(session: SMTPServerSession): void {
    if (!(session as SMTPServerSession & { counted?: boolean }).counted) return;
    const address = unmapped(session.remoteAddress);
    const n = (this.perClient.get(address) ?? 1) - 1;
    if (n <= 0) this.perClient.delete(address);
    else this.perClient.set(address, n);
  }

  /** A full address, a bare local name, or a name at this machine's dotless host name (cached: no I/O). */
  private async acceptable(address: string): Promise<boolean> {
    const local = await this.localMail.localDomains();
    return isAddressOrLocalName(address, (d) => local.has(d));
  }

  private async onMailFrom(address: SMTPServerAddress, cb: (err?: Error | null) => void): Promise<void> {
    if (address.address !== '' && !(await this.acceptable(address.address))) {
      return cb(smtpError(553, `5.1.7 <${address.address}> is not a valid sender address`));
    }
    cb();
  }

  private async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): Promise<void> {
    if (!(await this.acceptable(address.address))) return cb(smtpError(553, `5.1.3 <${address.address}> is not a valid recipient address`));
    if (session.envelope.rcptTo.length >= this.config.smtp.maxRecipients) {
      return cb(smtpError(452, `4.5.3 Too many recipients (at most ${this.config.smtp.maxRecipients} per message)`));
    }
    cb();
  }

  private onData(stream: SMTPServerDataStream, session: SMTPServerSession, cb: (err?: Error | null, message?: string) => void): void {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      if (!stream.sizeExceeded) chunks.push(chunk);
    });
    stream.on('error', (err) => cb(err));
    stream.on('end', () => {
      const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
      const recipients = session.envelope.rcptTo.map((r) => r.address);
      const client = unmapped(session.remoteAddress);
      if (stream.sizeExceeded) {
        chunks.length = 0;
        const text = `5.3.4 Message size exceeds the limit of ${this.config.smtp.maxMessageBytes} bytes`;
        this.reject(session, 'DATA', envelopeFrom, recipients, client, `552 ${text}`);
        return cb(smtpError(552, text));
      }
      this.intake
        .submit({
          envelopeFrom,
          recipients,
          raw: chunks,
          client: { address: client, heloName: session.hostNameAppearsAs, reverseName: session.clientHostname, protocol: session.transmissionType || 'ESMTP' },
        })
        .then((queueId) => {
          this.log.info({ queueId, client, from: envelopeFrom, rcpt: recipients.length }, 'message queued');
          cb(null, `2.0.0 Ok: queued as ${queueId}`);
        })
        .catch((err: unknown) => {
          if (err instanceof MessageRefused) {
            const { code, status, text } = err.refusal;
            this.log.warn({ client, from: envelopeFrom, reason: text }, `message refused: answering ${code}`);
            this.reject(session, 'DATA', envelopeFrom, recipients, client, `${code} ${status} ${text}`);
            return cb(smtpError(code, `${status} ${text}`));
          }
          this.log.error({ err, client }, 'message not stored: answering 451');
          cb(smtpError(451, '4.3.0 Temporary failure storing the message, try again later'));
        });
    });
  }

  /** A session cut at a deadline (answered 421); a message it was sending is a refusal at intake. */
  private onDeadline(session: SMTPServerSession, why: Expiry, inData: boolean): void {
    const limits = this.config.smtp;
    const reason = why === 'session' ? `timeout exceeded: the session lasted ${limits.sessionDeadlineSeconds} s` : `timeout exceeded: DATA slower than ${limits.minDataRate} bytes a second`;
    const client = unmapped(session.remoteAddress);
    this.log.warn({ client, session: session.id, reason }, 'SMTP session cut: answering 421');
    if (!inData) return;
    const sender = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
    this.reject(session, 'DATA', sender, session.envelope.rcptTo.map((r) => r.address), client, `421 4.4.2 ${reason}`);
  }

  /** A refusal before DATA (the connection, MAIL, RCPT), by our handlers or smtp-server's own checks (a declared SIZE, syntax, the recipient limit). */
  private onRefused(session: SMTPServerSession, r: Refusal): void {
    const client = unmapped(session.remoteAddress);
    const envelopeFrom = session.envelope?.mailFrom ? session.envelope.mailFrom.address : '';
    const sender = r.stage === 'MAIL' ? (r.address ?? '') : envelopeFrom;
    const recipients = r.stage === 'RCPT' ? [r.address ?? ''] : [];
    this.log.warn({ client, stage: r.stage, reply: r.reply }, 'SMTP command refused');
    this.reject(session, r.stage, sender, recipients, client, r.reply);
  }

  /**
   * A refusal at intake goes to the mail log (reports count it): the stage, and the reply as
   * sent. Best effort and off the reply's path: written at once, and the lines of a burst that
   * come while a write is running go together in the next one.
   */
  private reject(session: SMTPServerSession, stage: Refusal['stage'] | 'DATA', sender: string, recipients: string[], client: string, reply: string): void {
    this.rejections
      .add({ queueId: null, messageId: null, event: 'rejected', sender, recipient: recipients.join(', '), size: 0, reply, clientAddress: client, detail: stage })
      .catch((err: unknown) => this.log.warn({ err, session: session.id }, 'could not log a rejection'));
  }
}
