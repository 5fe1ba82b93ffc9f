import type { Request } from 'express';
import { InvalidInput } from '../../common/domain-errors.js';
import type { FieldErrors } from '../../common/field-errors.js';

/** A dashboard form's body as parsed (urlencoded: a value is a string, a repeated name a list). */
export type FormBody = Record<string, unknown>;

/** The request's form body; an empty one when it has none. */
export const formBodyOf = (req: Request): FormBody => (req.body ?? {}) as FormBody;

/** A form's text field, trimmed ('' when absent). */
export function formText(body: FormBody, name: string): string {
  const v = body[name];
  return typeof v === 'string' ? v.trim() : '';
}

/** A number field: '' is `empty`, digits a number, anything else goes as typed for the service to refuse in its words. */
export function formWhole<E>(body: FormBody, name: string, empty: E): number | string | E {
  const v = formText(body, name);
  if (v === '') return empty;
  return /^\d{1,9}$/.test(v) ? Number(v) : v;
}

/** A checkbox: absent is off (the forms always show them). */
export const formChecked = (body: FormBody, name: string): boolean => body[name] === 'on';

/** The reasons per field of a refusal, or undefined for any other error. */
export function fieldsOf(err: unknown): FieldErrors | undefined {
  return err instanceof InvalidInput ? err.fields : undefined;
}

/** One line of a form's error summary: the message with the field's label, and the field to link to when the form has it. */
export interface SummaryLine {
  name?: string;
  message: string;
}

/** The error summary above a form: "Port must be …" for each reason ('_' is the form as a whole). */
export function errorSummary(errors: FieldErrors, labels: Record<string, string>, formFields: readonly string[]): SummaryLine[] {
  return Object.entries(errors).map(([name, message]) => ({
    name: formFields.includes(name) ? name : undefined,
    message: `${labels[name] ?? (name === '_' ? 'The form' : name)} ${message}`,
  }));
}
