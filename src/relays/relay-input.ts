import { z } from 'zod';
import { hasLineBreak, isHostOrAddress } from '../common/address.js';
import { CONTROL_CHARACTERS_REASON, hasControlCharacter } from '../common/control-characters.js';
import { fieldErrors } from '../common/field-errors.js';

const PORT = 'must be a port number (1-65535) or null for the default of the security mode';
const bool = z.boolean({ error: 'must be true or false' });

/** POST /api/v1/relays (host required) and PUT /api/v1/relays/:id (every field optional). */
const fields = {
  host: z
    .string({ error: 'must be a host name or an IP address' })
    .trim()
    .min(1, 'is required: a host name or an IP address')
    .max(320, 'is too long')
    .refine((v) => isHostOrAddress(v), 'must be a host name or an IP address'),
  port: z.union([z.number().int(PORT).min(1, PORT).max(65535, PORT), z.null()], { error: PORT }),
  security: z.enum(['none', 'starttls', 'tls'], { error: 'must be one of none, starttls, tls' }),
  tlsVerify: bool,
  authEnabled: bool,
  username: z.string({ error: 'must be text' }).max(256, 'is too long').refine((v) => !hasLineBreak(v), 'must not contain line breaks').refine((v) => !hasControlCharacter(v), CONTROL_CHARACTERS_REASON),
  password: z.union([z.string().max(1024, 'is too long (at most 1024 characters)').refine((v) => !hasControlCharacter(v), CONTROL_CHARACTERS_REASON), z.null()], { error: 'must be text (empty keeps the stored one) or null to clear it' }),
  priority: z.number({ error: 'must be a whole number from 1 to 1000 (the primary relay is 0)' }).int('must be a whole number from 1 to 1000 (the primary relay is 0)').min(1, 'must be at least 1 (0 is the primary relay of the settings)').max(1000, 'must be at most 1000'),
  enabled: bool,
};

export const relayUpdateSchema = z.object(fields).partial().strict();
export const relayCreateSchema = relayUpdateSchema.required({ host: true });

export type RelayInput = z.infer<typeof relayUpdateSchema>;

/** One reason per relay field. */
export const relayFieldErrors = (error: z.ZodError): Record<string, string> => fieldErrors(error, { unknown: 'is not a relay field', root: 'must be a JSON object' });
