import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/** Where a component's schema is, for a `$ref`. */
export const ref = (name: string): { $ref: string } => ({ $ref: `#/components/schemas/${name}` });

const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * What zod writes that an OpenAPI 3.0 schema object does not take, or that says nothing to a
 * client: `$id` (a component is named by its key), the bounds of a safe integer, the pattern
 * zod gives a date-time besides its format, and `{ nullable, enum: [null] }` in a union, which
 * becomes `nullable` on the other member.
 */
function tidy(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(tidy);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$id' || key === '$schema') continue;
    if ((key === 'minimum' && value === -SAFE) || (key === 'maximum' && value === SAFE)) continue;
    out[key] = tidy(value);
  }
  if (out.format === 'date-time') delete out.pattern;
  const anyOf = out.anyOf as Record<string, unknown>[] | undefined;
  if (Array.isArray(anyOf)) {
    const isNull = (s: Record<string, unknown>) => s.nullable === true && Array.isArray(s.enum) && s.enum.length === 1 && s.enum[0] === null;
    const rest = anyOf.filter((s) => !isNull(s));
    if (rest.length < anyOf.length) {
      if (rest.length === 1 && !('$ref' in rest[0]!)) {
        delete out.anyOf;
        return { ...rest[0], ...out, nullable: true };
      }
      out.anyOf = rest;
      out.nullable = true;
    }
  }
  return out;
}

/**
 * A field of a request with a default may be left out: generators read `default` as "always
 * present" (openapi-typescript makes such a field required), so a request's default is said in
 * its description instead.
 */
function dropDefaults(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if ('default' in o) {
    o.description = `${o.description ? `${String(o.description)}; ` : ''}default: ${JSON.stringify(o.default)}`;
    delete o.default;
  }
  for (const value of Object.values(o)) dropDefaults(value);
}

/**
 * The OpenAPI 3.0 schemas of zod schemas, each a component under its name; a schema used inside
 * another is a `$ref` to its component. `input`: what a request may send (the schemas that
 * validate requests); `output`: what an answer holds.
 */
export function componentSchemas(schemas: Record<string, z.ZodType>, io: 'input' | 'output'): Record<string, SchemaObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const json = z.toJSONSchema(registry, { target: 'openapi-3.0', io, unrepresentable: 'any', uri: (id) => ref(id).$ref });
  const out = tidy(json.schemas) as Record<string, SchemaObject>;
  if (io === 'input') for (const schema of Object.values(out)) dropDefaults(schema);
  return out;
}
