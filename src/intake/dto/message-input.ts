import { z } from 'zod';
import { hasLineBreak, isAddressOrLocalName, isMailbox } from '../../common/address.js';
import { SEVERITIES } from '../../common/severity.js';
import { CONTROL_CHARACTERS_REASON, NUL_REASON, hasControlCharacter, hasNul } from '../../common/control-characters.js';

const address = z.string({ error: 'must be an email address' }).trim().refine(isMailbox, 'must be an email address such as ops@example.com');
/**
 * A recipient: an address, or a local name intake rewrites (root, root@nas: see
 * intake/local-mail.ts). Whether a dotless host is this machine is the controller's to check.
 */
const recipient = z
  .string({ error: 'must be an email address' })
  .trim()
  .refine((v) => isAddressOrLocalName(v, () => true), 'must be an email address such as ops@example.com, or a local name such as root');
const addresses = z.union([recipient, z.array(recipient).max(100, 'at most 100 addresses')]).transform((v) => (Array.isArray(v) ? v : [v]));
const headerText = (max: number) =>
  z.string({ error: 'must be text' }).max(max, 'is too long').refine((v) => !hasLineBreak(v), 'must not contain line breaks').refine((v) => !hasControlCharacter(v), CONTROL_CHARACTERS_REASON);
/** A body may hold tabs and line breaks; a NUL means nothing to a mail reader, and intake refuses it (message-hygiene.ts). */
const bodyText = z.string({ error: 'must be text' }).max(10 * 1024 * 1024, 'is too long').refine((v) => !hasNul(v), NUL_REASON);

/** POST /api/v1/messages: a message described as JSON. */
export const messageInputSchema = z
  .object({
    from: address.optional(),
    fromName: headerText(200).optional(),
    to: addresses,
    cc: addresses.optional(),
    bcc: addresses.optional(),
    replyTo: address.optional(),
    subject: headerText(998).default(''),
    text: bodyText.optional(),
    html: bodyText.optional(),
    /** For routing rules and channels (as the header X-Postroom-Severity). */
    severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }).optional(),
  })
  .strict()
  .refine((m) => m.text !== undefined || m.html !== undefined, { message: 'a message needs text or html', path: ['text'] })
  // `to: []` alone named nobody: it was acknowledged (202) and logged as received, then went nowhere.
  .refine((m) => (m.to?.length ?? 0) + (m.cc?.length ?? 0) + (m.bcc?.length ?? 0) > 0, { message: 'needs at least one recipient (in to, cc or bcc)', path: ['to'] });

export type MessageInput = z.infer<typeof messageInputSchema>;
