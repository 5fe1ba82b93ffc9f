import type { FieldErrors } from '../common/field-errors.js';
import { MAX_PASSWORD_LENGTH } from './admin-password.service.js';

/** Long enough that guessing it online is hopeless, short enough for a passphrase of a few words. */
export const MIN_PASSWORD_LENGTH = 12;

/** Lower case, upper case, digits, and everything else (spaces, punctuation, letters of scripts without case). */
const CLASSES = [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{Ll}\p{Lu}\p{Nd}]/u];

export interface PasswordChange {
  current: string;
  password: string;
  confirm: string;
}

/**
 * What is wrong with a new admin password, one message per field (`password`, `confirm`):
 * at least 12 characters, not the current one, not all of one kind of character, typed twice
 * alike. Whether `current` is the stored password is for the caller to check (argon2).
 */
export function newPasswordErrors({ current, password, confirm }: PasswordChange): FieldErrors {
  const errors: FieldErrors = {};
  // Characters as a person counts them, not UTF-16 units: "ü" is one.
  const length = [...password].length;
  if (!password) errors.password = 'Enter a new password.';
  else if (length < MIN_PASSWORD_LENGTH) errors.password = `The new password must be at least ${MIN_PASSWORD_LENGTH} characters long (this one has ${length}).`;
  else if (password.length > MAX_PASSWORD_LENGTH) errors.password = `The new password must be at most ${MAX_PASSWORD_LENGTH} characters long.`;
  else if (password === current) errors.password = 'The new password must differ from the current one.';
  else if (CLASSES.filter((c) => c.test(password)).length < 2)
    errors.password = 'The new password must mix at least two kinds of characters: lower case, upper case, digits, spaces or punctuation.';
  if (!confirm) errors.confirm = 'Type the new password a second time.';
  else if (confirm !== password) errors.confirm = 'The two new passwords differ: type the same one twice.';
  return errors;
}
