/** A row's id as the API writes it ("3"), or undefined when it cannot be one (the caller answers 404). */
export function rowId(id: string): number | undefined {
  return /^[1-9]\d{0,9}$/.test(id) && Number(id) <= 2_147_483_647 ? Number(id) : undefined;
}

/** A request body as an object of fields (anything else: none, so every required field is named). */
export function bodyFields(raw: unknown): Record<string, unknown> {
  return raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
}
