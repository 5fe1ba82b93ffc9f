import type { INestApplication } from '@nestjs/common';
import type { OpenAPIObject, OperationObject, ResponseObject, SchemaObject } from '@nestjs/swagger';
import { ERROR_EXAMPLES } from './examples.js';
import { type AnswerSpec, OPERATIONS } from './operations.js';
import { requestSchemas } from './requests.js';
import { errorSchema } from './views-common.js';
import { logViews } from './views-logs.js';
import { queueViews } from './views-queue.js';
import { relayViews } from './views-relays.js';
import { channelViews } from './views-channels.js';
import { healthViews, reportViews } from './views-reports.js';
import { settingsViews } from './views-settings.js';
import { componentSchemas, ref } from './zod-openapi.js';

export const BEARER = 'bearer';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'] as const;
/** Served without a token, besides the JSON API (metrics are text for Prometheus, not an API call). */
/** The paths of the operations that need no token (OPERATIONS marks them). */
const PUBLIC_PATHS = new Set(Object.entries(OPERATIONS).flatMap(([key, spec]) => (spec.public ? [key.split(' ')[1]!] : [])));

const DESCRIPTION = [
  'The JSON API of Postroom, the mail subsystem of the appliance.',
  'Every call under /api/v1 needs `Authorization: Bearer <token>`: the `API_TOKEN` of the configuration, or the local token Postroom writes to `DATA_DIR/cli.token` (mode 0600) on start. Without a valid token: 401, and the body of the call is discarded unread.',
  'Bodies: up to 12 MB for POST /api/v1/messages, 128 kB for every other call; 413 past it.',
  'Every error answers one shape, the Error schema: `{ statusCode, error, message, fields? }`; `fields` (on a 400 caused by particular fields) gives one reason per field, keyed by its name (`settings.relayPort` for a nested one).',
  'Lists answer `{ "items": [...], "nextCursor": "…" | null }`, newest first: pass `?cursor=` for the next page and `?limit=` (default 50, at most 500). Field names are camelCase, dates ISO 8601, sizes in bytes.',
].join('\n\n');

/** The schemas of every request body, answer and error, as components. */
function components(): Record<string, SchemaObject> {
  const views = { Error: errorSchema(), ...settingsViews(), ...relayViews(), ...channelViews(), ...queueViews(), ...logViews(), ...reportViews(), ...healthViews() };
  return { ...componentSchemas(views, 'output'), ...requestSchemas() };
}

const json = (schema: string | undefined, example: unknown) => ({ 'application/json': { ...(schema ? { schema: ref(schema) } : {}), ...(example !== undefined ? { example } : {}) } });

function answer(a: AnswerSpec): ResponseObject {
  const content = json(a.schema, a.example);
  if (a.text) Object.assign(content, { 'text/plain': { schema: { type: 'string' }, example: a.text.example } });
  return { description: a.description, content };
}

const errorAnswer = (status: number, description: string): ResponseObject => ({ description, content: json('Error', { ...ERROR_EXAMPLES[status]! }) });

/** The parameters, body and answers of one operation, from its entry in OPERATIONS. */
function describeOperation(key: string, op: OperationObject, isPublic: boolean): void {
  const spec = OPERATIONS[key];
  if (!spec) return;
  op.operationId = spec.operationId;
  if (spec.summary) op.summary = spec.summary;
  if (spec.tag) op.tags = [spec.tag];
  op.parameters = spec.parameters ?? [];
  if (spec.body) op.requestBody = { required: spec.body.required ?? true, content: json(spec.body.schema, spec.body.example) };
  else delete op.requestBody;
  const responses: Record<string, ResponseObject> = {};
  for (const [status, a] of Object.entries(spec.ok)) responses[status] = answer(a);
  for (const [status, description] of Object.entries(spec.errors ?? {})) responses[status] = errorAnswer(Number(status), description);
  if (!isPublic) responses['401'] = errorAnswer(401, 'No token, or a token Postroom does not know');
  if (spec.body) responses['413'] = errorAnswer(413, 'The body is larger than this call takes');
  if (spec.unavailable) responses['503'] = answer(spec.unavailable);
  op.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The OpenAPI document of the JSON API: every route under /api/v1, and /healthz and /readyz (the
 * dashboard's pages and the metrics are left out). Each operation gets its parameters, request
 * body and answers from OPERATIONS, the schemas from the zod schemas that validate the requests
 * and describe the answers, each operation's summary and tag too (the controllers carry no
 * documentation decorators); a route not in OPERATIONS still gets the bearer requirement, a tag
 * and its 401.
 */
export async function buildApiDocument(app: INestApplication, version: string): Promise<OpenAPIObject> {
  // Loaded here, at the first request for the document: @nestjs/swagger (with es-toolkit and
  // js-yaml) is about 20 MiB that a serving process otherwise never needs.
  const { DocumentBuilder, SwaggerModule } = await import('@nestjs/swagger');
  const config = new DocumentBuilder()
    .setTitle('Postroom API')
    .setDescription(DESCRIPTION)
    .setVersion(version)
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        description: 'Authorization: Bearer <token>, the token being API_TOKEN or the content of DATA_DIR/cli.token (written by Postroom on start, mode 0600).',
      },
      BEARER,
    )
    .build();
  // The token is opaque, not a JWT: no bearerFormat (DocumentBuilder gives JWT by default).
  const schemes = config.components?.securitySchemes ?? {};
  if (schemes[BEARER] && 'bearerFormat' in schemes[BEARER]) delete schemes[BEARER].bearerFormat;
  const doc = SwaggerModule.createDocument(app, config);
  doc.paths = Object.fromEntries(Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/v1/') || path === '/api/v1' || PUBLIC_PATHS.has(path)));
  for (const [path, item] of Object.entries(doc.paths)) {
    const isPublic = PUBLIC_PATHS.has(path);
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      if (isPublic) op.security = [];
      else if (!op.security?.some((s) => BEARER in s)) op.security = [...(op.security ?? []), { [BEARER]: [] }];
      if (!op.tags?.length) op.tags = [path.split('/')[3] ?? 'api'];
      op.responses ??= {};
      if (!isPublic) op.responses['401'] ??= errorAnswer(401, 'No token, or a token Postroom does not know');
      describeOperation(`${method.toUpperCase()} ${path}`, op, isPublic);
    }
  }
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, ...components() } };
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
