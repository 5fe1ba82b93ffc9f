import { Body, Controller, HttpCode, Post, ServiceUnavailableException, UseGuards } from '@nestjs/common';
import { ApiTokenGuard } from '../auth/api-token.guard.js';
import { formatMailbox, isAddressOrLocalName } from '../common/address.js';
import { composeMail } from '../common/compose-mail.js';
import { InvalidInput } from '../common/domain-errors.js';
import { MailLogService } from '../mail-log/mail-log.service.js';
import { fieldErrors } from '../common/field-errors.js';
import { SettingsService } from '../settings/settings.service.js';
import { messageInputSchema } from './dto/message-input.js';
import { IntakeService } from './intake.service.js';
import { LocalMailService } from './local-mail.service.js';
import { MessageRefused } from './message-hygiene.js';
@Controller('api/v1/messages')
@UseGuards(ApiTokenGuard)
export class MessagesController {
  constructor(
    private readonly intake: IntakeService,
    private readonly settings: SettingsService,
    private readonly mailLog: MailLogService,
    private readonly localMail: LocalMailService,
  ) {}

  /** Builds the MIME message, queues it, and answers 202 with its queue id once committed. */
  @Post()
  @HttpCode(202)
  async submit(@Body() body: unknown): Promise<{ id: string }> {
    const parsed = messageInputSchema.safeParse(body ?? {});
    if (!parsed.success) throw new InvalidInput('Invalid message: nothing was queued', fieldErrors(parsed.error));
    const m = parsed.data;
    const local = await this.localMail.localDomains();
    const elsewhere = Object.fromEntries(
      (['to', 'cc', 'bcc'] as const).flatMap((field) => {
        const bad = m[field]?.find((a) => !isAddressOrLocalName(a, (d) => local.has(d)));
        return bad === undefined ? [] : [[field, `${bad} is neither a full address (its host has no domain) nor this machine`]];
      }),
    );
    if (Object.keys(elsewhere).length) throw new InvalidInput('Invalid message: nothing was queued', elsewhere);
    const s = await this.settings.get();
    const fromAddress = m.from ?? s.fromAddress;
    if (!fromAddress) throw new InvalidInput('Invalid message: nothing was queued', { from: 'is required while no From address is configured in the settings' });
    const raw = await composeMail({
      from: formatMailbox(m.fromName ?? (m.from ? '' : s.fromName), fromAddress),
      to: m.to,
      cc: m.cc,
      bcc: m.bcc,
      replyTo: m.replyTo,
      subject: m.subject,
      text: m.text,
      html: m.html,
      ...(m.severity ? { headers: { 'X-Postroom-Severity': m.severity } } : {}),
    });
    // MailComposer keeps Bcc out of the headers; the envelope still carries them.
    const recipients = [...new Set([...m.to, ...(m.cc ?? []), ...(m.bcc ?? [])])];
    try {
      const id = await this.intake.submit({ envelopeFrom: fromAddress, recipients, raw, client: { address: null, protocol: 'HTTP' } });
      return { id };
    } catch (err) {
      // Refused for good (message-hygiene.ts): the same request would be refused again. In the mail log as any refusal at intake.
      if (err instanceof MessageRefused) {
        await this.mailLog
          .append([{ queueId: null, messageId: null, event: 'rejected', sender: fromAddress, recipient: recipients.join(', '), size: 0, reply: err.message, detail: 'api' }])
          .catch(() => undefined); // best effort, as the listener's: the answer is the 400
        throw new InvalidInput(`Message refused: ${err.message}; nothing was queued`);
      }
      throw new ServiceUnavailableException({ statusCode: 503, error: 'Service Unavailable', message: 'The message could not be stored, try again later', cause: String(err) });
    }
  }
}
