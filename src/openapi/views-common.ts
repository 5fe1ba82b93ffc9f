import { z } from 'zod';

/** An ISO 8601 date and time, as every answer gives them. */
export const dateTime = () => z.iso.datetime({ offset: true });
/** A whole number: a count, a size in bytes, a time in milliseconds. */
export const whole = () => z.int();

/** A page of a list: newest first; `nextCursor` is the `?cursor=` of the next page, null on the last. */
export const page = <T extends z.ZodType>(item: T) =>
  z.strictObject({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as ?cursor= for the next page; null on the last page'),
  });

/**
 * The API's one error shape: every 400, 401, 404, 409, 413 (and a 503 of POST
 * /api/v1/messages) answers it. `fields` only on a 400 caused by particular fields.
 */
export function errorSchema() {
  return z
    .object({
      statusCode: whole().describe('The HTTP status'),
      error: z.string().describe('The name of the HTTP status: Bad Request, Unauthorized, Not Found, Conflict, Payload Too Large'),
      message: z.string().describe('What was refused'),
      fields: z
        .record(z.string(), z.string())
        .optional()
        .describe("One reason per field, keyed by the field's name (settings.relayPort for a nested one); only on a 400 caused by particular fields"),
    })
    .describe('An error: the HTTP status and its name, what was refused, and one reason per field where fields were to blame');
}

/** `{ "count": n }`: how many messages an action changed. */
export const countSchema = () => z.strictObject({ count: whole().describe('How many messages the action changed') });
