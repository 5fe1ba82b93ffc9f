import { z } from 'zod';
import { hasLineBreak, isMailbox } from '../../common/address.js';

const address = z.string({ error: 'must be an email address' }).trim().refine(isMailbox, 'must be an email address such as ops@example.com');
const addresses = z.union([address, z.array(address).max(100, 'at most 100 addresses')]).transform((v) => (Array.isArray(v) ? v : [v]));
const headerText = (max: number) => z.string({ error: 'must be text' }).max(max, 'is too long').refine((v) => !hasLineBreak(v), 'must not contain line breaks');

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
    text: z.string({ error: 'must be text' }).max(10 * 1024 * 1024, 'is too long').optional(),
    html: z.string({ error: 'must be text' }).max(10 * 1024 * 1024, 'is too long').optional(),
  })
  .strict()
  .refine((m) => m.text !== undefined || m.html !== undefined, { message: 'a message needs text or html', path: ['text'] });

export type MessageInput = z.infer<typeof messageInputSchema>;
