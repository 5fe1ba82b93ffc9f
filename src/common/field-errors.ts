import type { z } from 'zod';

/** One reason per field, as a 400 answers it (`fields`) and a form shows it. */
export type FieldErrors = Record<string, string>;

/**
 * Turns zod's issues into one message per field (the first issue of a field wins). A key the
 * schema does not know gets `unknown`; an issue about the whole value (no path) gets `root`, or
 * zod's own message, under `_`.
 */
export function fieldErrors(error: z.ZodError, words: { unknown?: string; root?: string } = {}): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out[key] = words.unknown ?? 'is not a known field';
      continue;
    }
    const field = issue.path.length ? String(issue.path[0]) : '_';
    out[field] ??= issue.path.length ? issue.message : (words.root ?? issue.message);
  }
  return out;
}
