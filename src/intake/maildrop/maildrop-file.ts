/**
 * A file the sendmail drop-in (bin/postroom-sendmail) leaves in the maildrop: an envelope of
 * `name value` lines, an empty line, then the message byte for byte. Pure.
 *
 *   POSTROOM-MAILDROP 1
 *   flags t i            -t: recipients from the headers; -i: a lone dot does not end the message
 *   sender root          -f (absent: the file's owner)
 *   fullname Cron Daemon -F
 *   rcpt ops@example.com one line per command-line argument (a comma list is split later)
 *   <empty line>
 *   <the message>
 */
export interface MaildropFile {
  extractRecipients: boolean;
  ignoreDots: boolean;
  /** -f as given ('' or '<>' for the null sender); undefined when not given. */
  sender?: string;
  fullName?: string;
  /** The recipient arguments as given. */
  recipients: string[];
  message: Buffer;
}

const MAGIC = 'POSTROOM-MAILDROP 1\n';
/** An envelope is a few lines; past this, the file is not one of ours. */
const MAX_ENVELOPE = 256 * 1024;

export class MaildropFormatError extends Error {}

export function parseMaildropFile(data: Buffer): MaildropFile {
  if (!data.subarray(0, MAGIC.length).equals(Buffer.from(MAGIC))) throw new MaildropFormatError('it does not start with "POSTROOM-MAILDROP 1"');
  const end = data.indexOf('\n\n', MAGIC.length - 1);
  if (end === -1 || end > MAX_ENVELOPE) throw new MaildropFormatError('its envelope does not end (no empty line after it)');
  const out: MaildropFile = { extractRecipients: false, ignoreDots: false, recipients: [], message: data.subarray(end + 2) };
  const lines = data.subarray(MAGIC.length, end + 1).toString('utf8').split('\n').slice(0, -1);
  lines.forEach((line, i) => {
    const space = line.indexOf(' ');
    const name = space === -1 ? line : line.slice(0, space);
    const value = space === -1 ? '' : line.slice(space + 1);
    switch (name) {
      case 'flags':
        for (const flag of value.split(' ').filter(Boolean)) {
          if (flag === 't') out.extractRecipients = true;
          else if (flag === 'i') out.ignoreDots = true;
          else throw new MaildropFormatError(`line ${i + 2}: unknown flag "${flag}"`);
        }
        break;
      case 'sender':
        out.sender = value;
        break;
      case 'fullname':
        out.fullName = value;
        break;
      case 'rcpt':
        out.recipients.push(value);
        break;
      default:
        throw new MaildropFormatError(`line ${i + 2}: unknown envelope line "${name.slice(0, 40)}"`);
    }
  });
  return out;
}
