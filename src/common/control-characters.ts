/**
 * The one rule for control characters in text that people or programs type: settings, relay
 * credentials, message fields, list filters. PostgreSQL refuses NUL in a text value (the
 * statement fails, which was a 500), and no other C0 or C1 control, nor DEL, means anything in
 * a one-line field: they only hide text (an escape sequence) or cut it (NUL in SASL PLAIN).
 */
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;

/** The reason shown next to a field that holds one. */
export const CONTROL_CHARACTERS_REASON = 'must not contain control characters (such as NUL)';

/** NUL, which no text column takes, in text where other controls are fine (a message body). */
export const NUL_REASON = 'must not contain NUL characters';

export function hasControlCharacter(value: string): boolean {
  return CONTROL.test(value);
}

export function hasNul(value: string): boolean {
  return value.includes('\0');
}

/** The text without its control characters, for input that is cleaned rather than refused. */
export function stripControlCharacters(value: string): string {
  return value.replace(CONTROLS, '');
}
