import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

export const BEARER = 'bearer';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;

/**
 * The OpenAPI document of the JSON API: every route under /api/v1 (the dashboard's pages,
 * health and metrics are left out), each with the bearer-token requirement and a tag, even a
 * route whose controller forgot its decorators.
 */
export function buildApiDocument(app: INestApplication, version: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Postroom API')
    .setDescription(
      'The JSON API of Postroom, the mail subsystem of the appliance. Every call needs a bearer token: ' +
        '`API_TOKEN`, a token made in the dashboard, or the CLI token in `DATA_DIR/cli.token`. ' +
        'Lists answer `{ "items": [...], "nextCursor": "…" | null }` (`?cursor=`, `?limit=` up to 500); dates are ISO 8601; sizes are bytes.',
    )
    .setVersion(version)
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Authorization: Bearer <token>' }, BEARER)
    .build();
  const doc = SwaggerModule.createDocument(app, config);
  doc.paths = Object.fromEntries(Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/v1/') || path === '/api/v1'));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      if (!op.security?.some((s) => BEARER in s)) op.security = [...(op.security ?? []), { [BEARER]: [] }];
      if (!op.tags?.length) op.tags = [path.split('/')[3] ?? 'api'];
      op.responses ??= {};
      op.responses['401'] ??= { description: 'No token, or a token Postroom does not know' };
    }
  }
  const used = new Set(Object.values(doc.paths).flatMap((item) => METHODS.flatMap((m) => item[m]?.tags ?? [])));
  doc.tags = [...used].sort().map((name) => ({ name }));
  return doc;
}

/** "GET /api/v1/queue — List the queue" lines for the page without JavaScript. */
export function operationList(doc: OpenAPIObject): { method: string; path: string; summary: string }[] {
  const out: { method: string; path: string; summary: string }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (op) out.push({ method: method.toUpperCase(), path, summary: op.summary ?? '' });
    }
  }
  return out;
}
