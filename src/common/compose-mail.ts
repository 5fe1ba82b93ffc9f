import type Mail from 'nodemailer/lib/mailer/index.js';

/**
 * A message Postroom writes itself (a report, a digest, an alarm, a test email, an API
 * submission), built by nodemailer's MailComposer. The composer and the MIME code it brings are
 * loaded at the first such message, not at start: an idle Postroom does without them.
 */
export async function composeMail(mail: Mail.Options): Promise<Buffer> {
  const { default: MailComposer } = await import('nodemailer/lib/mail-composer/index.js');
  return new MailComposer(mail).compile().build();
}
