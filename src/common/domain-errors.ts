/**
 * What a service refuses, said without HTTP: the web layer's exception filter
 * (web/domain-error.filter.ts) answers them as 400, 404 and 409, and pages show them next to
 * their fields. No NestJS import here, so every floor can throw them.
 */
export abstract class DomainError extends Error {
  protected constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The request is wrong: one reason per field (`fields`), nothing was done. */
export class InvalidInput extends DomainError {
  constructor(
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** What the request names does not exist. */
export class NotFound extends DomainError {
  constructor(message: string) {
    super(message);
  }
}

/** The request is well formed but the current state does not allow it (e.g. a message being sent). */
export class Conflict extends DomainError {
  constructor(message: string) {
    super(message);
  }
}
