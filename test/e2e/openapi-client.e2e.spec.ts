import { Validator } from '@seriousme/openapi-schema-validator';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { errorSchema } from '../../src/openapi/views-common.js';
import { logViews } from '../../src/openapi/views-logs.js';
import { queueViews } from '../../src/openapi/views-queue.js';
import { relayViews } from '../../src/openapi/views-relays.js';
import { channelViews } from '../../src/openapi/views-channels.js';
import { healthViews, reportViews } from '../../src/openapi/views-reports.js';
import { settingsViews } from '../../src/openapi/views-settings.js';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess, ROOT, freePort } from '../helpers/postroom-process.js';

type Operation = { operationId?: string; parameters?: unknown[]; requestBody?: { content: Record<string, { schema?: unknown; example?: unknown }> }; responses: Record<string, { content?: Record<string, { schema?: { $ref?: string }; example?: unknown }> }>; security?: unknown[] };
type Doc = {
  openapi: string;
  info: { description: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string; scheme: string; bearerFormat?: string; description?: string }> };
};

const WITH_BODY = ['PUT /api/v1/settings', 'POST /api/v1/settings/test', 'POST /api/v1/relays', 'PUT /api/v1/relays/{id}', 'POST /api/v1/relays/{id}/test', 'POST /api/v1/channels', 'PUT /api/v1/channels/{id}', 'POST /api/v1/rules', 'PUT /api/v1/rules/{id}', 'POST /api/v1/messages'];

const VIEWS = { Error: errorSchema(), ...settingsViews(), ...relayViews(), ...channelViews(), ...queueViews(), ...logViews(), ...reportViews(), ...healthViews() };

/** The program a vendor writes against the types generated from the document. */
const CLIENT = `import createClient from 'openapi-fetch';
import type { components, paths } from './api.js';

type QueueEntry = components['schemas']['QueueEntry'];

const client = createClient<paths>({ baseUrl: process.env.BASE_URL, headers: { authorization: 'Bearer ' + process.env.TOKEN } });

const sent = await client.POST('/api/v1/messages', { body: { from: 'alerts@nas.example.com', to: ['ops@example.com'], subject: 'From a generated client', text: 'hello' } });
if (!sent.data) throw new Error('submit answered ' + sent.response.status);
const id: string = sent.data.id;

const page = await client.GET('/api/v1/queue', { params: { query: { limit: 10 } } });
if (!page.data) throw new Error('queue answered ' + page.response.status);
const entries: QueueEntry[] = page.data.items;
const next: string | null = page.data.nextCursor;

const one = await client.GET('/api/v1/queue/{id}', { params: { path: { id } } });
const counts = await client.GET('/api/v1/queue/counts');
const total: number = counts.data ? counts.data.queued + counts.data.deferred + counts.data.hold + counts.data.sending : -1;

const refused = await client.POST('/api/v1/messages', { body: { to: [], text: 'nobody' } });
// The subject may be left out (it defaults to empty).
const untitled = await client.POST('/api/v1/messages', { body: { to: 'ops@example.com', text: 'no subject' } });
const reasons: Record<string, string> | undefined = refused.error?.fields;

// The types are real, not any: these do not compile.
// @ts-expect-error: not a state of the queue
await client.GET('/api/v1/queue', { params: { query: { state: 'lost' } } });
// @ts-expect-error: a message needs its recipients
await client.POST('/api/v1/messages', { body: { subject: 'x', text: 'x' } });
// @ts-expect-error: attempts is a number
const attempts: string = entries[0]!.attempts;

console.log(JSON.stringify({
  status: sent.response.status,
  id,
  queued: entries.map((e) => ({ id: e.id, state: e.state, to: e.to, subject: e.subject })),
  next,
  one: one.data ? { id: one.data.id, from: one.data.from } : null,
  total,
  refused: { status: refused.response.status, reasons },
  untitled: untitled.response.status,
  attempts,
}));
`;

function run(command: string, args: string[], options: { cwd: string; env?: Record<string, string> }): string {
  const r = spawnSync(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${path.basename(args[0] ?? command)} failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('The OpenAPI document: valid, complete, and enough for a generated client', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postroom: PostroomProcess;
  let doc: Doc;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    postroom = await new PostroomProcess({ databaseUrl: db.url }).start();
    // The relay is a loopback port nothing listens on: messages stay in the queue (deferred), nothing leaves the machine.
    const closed = await freePort();
    const r = await postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: closed, security: 'none', authEnabled: false, fromAddress: 'nas@example.com' });
    expect(r.status).toBe(200);
    const res = await fetch(`${postroom.baseUrl}/api/docs.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
    dir = await mkdtemp(path.join(os.tmpdir(), 'postroom-client-'));
  });

  afterAll(async () => {
    await postroom?.dispose();
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('is a valid OpenAPI 3.0 document whose references all resolve', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toMatch(/^3\.0/);
    expect(() => validator.resolveRefs()).not.toThrow();
  });

  it('says how to authenticate, truthfully: a bearer token, API_TOKEN or DATA_DIR/cli.token', () => {
    const bearer = doc.components.securitySchemes.bearer!;
    expect(bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(bearer.bearerFormat).toBeUndefined();
    expect(bearer.description).toMatch(/API_TOKEN/);
    expect(bearer.description).toMatch(/DATA_DIR\/cli\.token/);
    const text = JSON.stringify(doc);
    expect(text).not.toMatch(/JWT/);
    expect(text).not.toMatch(/made in the dashboard|dashboard token/i);
    expect(doc.info.description).toMatch(/API_TOKEN/);
  });

  it('gives every operation its id, parameters, body, answers with schemas and examples, and the one error shape', () => {
    const ids = new Set<string>();
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const name = `${method.toUpperCase()} ${p}`;
        expect(op.operationId, name).toMatch(/^[a-z][A-Za-z]+$/); // ours, not the controller's method name
        expect(ids.has(op.operationId!), `${name}: operationId unique`).toBe(false);
        ids.add(op.operationId!);
        const ok = Object.keys(op.responses).filter((s) => /^2/.test(s));
        expect(ok.length, name).toBe(1);
        for (const [status, response] of Object.entries(op.responses)) {
          const body = response.content?.['application/json'];
          expect(body?.schema, `${name} ${status}`).toBeDefined();
          expect(body?.example, `${name} ${status}`).toBeDefined();
          if (/^4/.test(status)) expect(body?.schema?.$ref, `${name} ${status}`).toBe('#/components/schemas/Error');
        }
        if (WITH_BODY.includes(name)) expect(op.requestBody?.content['application/json']?.schema, name).toBeDefined();
        else expect(op.requestBody, name).toBeUndefined();
        if (op.requestBody) expect(op.responses['413'], name).toBeDefined();
        if (p.includes('{')) expect(op.parameters?.length, name).toBeGreaterThan(0);
        if (p.startsWith('/api/v1/')) {
          expect(op.security, name).toEqual([{ bearer: [] }]);
          expect(op.responses['401'], name).toBeDefined();
        } else expect(op.security, name).toEqual([]);
      }
    }
    expect(Object.keys(doc.paths).sort()).toEqual(
      expect.arrayContaining(['/api/v1/settings', '/api/v1/settings/test', '/api/v1/settings/presets', '/api/v1/relays', '/api/v1/relays/{id}', '/api/v1/relays/{id}/test', '/api/v1/messages', '/api/v1/queue', '/api/v1/queue/counts', '/api/v1/queue/flush', '/api/v1/queue/{id}', '/api/v1/queue/{id}/hold', '/api/v1/mail-log', '/api/v1/events', '/api/v1/reports/{day}', '/healthz', '/readyz']),
    );
    expect(doc.paths['/api/v1/queue']!.get!.parameters).toContainEqual(expect.objectContaining({ name: 'state', in: 'query', schema: { type: 'string', enum: ['queued', 'deferred', 'hold', 'sending'] } }));
    expect(doc.paths['/api/v1/queue']!.get!.parameters).toContainEqual(expect.objectContaining({ name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } }));
    expect(doc.paths['/api/v1/messages']!.post!.requestBody!.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/MessageSubmission' });
    expect(doc.components.schemas.Error).toMatchObject({ required: ['statusCode', 'error', 'message'] });
  });

  it('describes what the service answers (checked on real answers, errors included)', async () => {
    const check = async (schema: z.ZodType, method: string, url: string, body?: unknown, status = 200) => {
      const r = await postroom.api(method, url, body);
      expect(r.status, `${method} ${url}`).toBe(status);
      const parsed = schema.safeParse(r.body);
      expect(parsed.success, `${method} ${url}: ${parsed.error?.message}`).toBe(true);
      return r.body;
    };
    const accepted = (await check(VIEWS.MessageAccepted, 'POST', '/api/v1/messages', { to: 'ops@example.com', subject: 'schema', text: 'x' }, 202)) as { id: string };
    await check(VIEWS.Settings, 'GET', '/api/v1/settings');
    await check(VIEWS.ProviderPresetList, 'GET', '/api/v1/settings/presets');
    await check(VIEWS.RelayList, 'GET', '/api/v1/relays');
    const relay = (await check(VIEWS.Relay, 'POST', '/api/v1/relays', { host: '127.0.0.1', port: 9, security: 'none', enabled: false }, 201)) as { id: string };
    await check(VIEWS.Relay, 'PUT', `/api/v1/relays/${relay.id}`, { priority: 20 });
    await check(VIEWS.RelayDeleted, 'DELETE', `/api/v1/relays/${relay.id}`);
    const channel = (await check(VIEWS.Channel, 'POST', '/api/v1/channels', { type: 'gotify', name: 'Gotify', url: 'http://127.0.0.1:9', token: 'app-token' }, 201)) as { id: string };
    await check(VIEWS.ChannelList, 'GET', '/api/v1/channels');
    await check(VIEWS.Channel, 'PUT', `/api/v1/channels/${channel.id}`, { enabled: false });
    await check(VIEWS.ChannelTestResult, 'POST', `/api/v1/channels/${channel.id}/test`);
    const rule = (await check(VIEWS.Rule, 'POST', '/api/v1/rules', { name: 'Everything', channels: [channel.id], when: 'undelivered', afterMinutes: 5 }, 201)) as { id: string };
    await check(VIEWS.RuleList, 'GET', '/api/v1/rules');
    await check(VIEWS.Rule, 'PUT', `/api/v1/rules/${rule.id}`, { match: { severity: 'critical' } });
    await check(VIEWS.Error, 'DELETE', `/api/v1/channels/${channel.id}`, undefined, 409);
    await check(VIEWS.RuleDeleted, 'DELETE', `/api/v1/rules/${rule.id}`);
    await check(VIEWS.ChannelDeleted, 'DELETE', `/api/v1/channels/${channel.id}`);
    await check(VIEWS.QueuePage, 'GET', '/api/v1/queue?limit=5');
    await check(VIEWS.QueueCounts, 'GET', '/api/v1/queue/counts');
    // Held once its first attempt (to a closed port) is over: 409 while it is being sent.
    const held = await postroom.until(async () => {
      const r = await postroom.api('POST', `/api/v1/queue/${accepted.id}/hold`);
      if (r.status === 409) return undefined;
      expect(r.status).toBe(200);
      return r.body;
    }, 'the message to be held');
    expect(VIEWS.QueueEntry.safeParse(held).success).toBe(true);
    await check(VIEWS.QueueEntry, 'GET', `/api/v1/queue/${accepted.id}`);
    await check(VIEWS.Count, 'DELETE', `/api/v1/queue/${accepted.id}`);
    await check(VIEWS.Count, 'POST', '/api/v1/queue/flush');
    await check(VIEWS.MailLogPage, 'GET', '/api/v1/mail-log?limit=5');
    await check(VIEWS.EventPage, 'GET', '/api/v1/events?limit=5');
    await check(VIEWS.DailyReport, 'GET', '/api/v1/reports/today');
    await check(VIEWS.Health, 'GET', '/healthz');
    await check(VIEWS.Readiness, 'GET', '/readyz');
    // Errors: one shape.
    await check(VIEWS.Error, 'PUT', '/api/v1/settings', { relayPort: 70000 }, 400);
    await check(VIEWS.Error, 'GET', '/api/v1/queue/0000000000000000B', undefined, 404);
    await check(VIEWS.Error, 'DELETE', '/api/v1/relays/primary', undefined, 409);
    const unauthorized = await fetch(`${postroom.baseUrl}/api/v1/queue`);
    expect(unauthorized.status).toBe(401);
    const unauthorizedBody: unknown = await unauthorized.json();
    expect(VIEWS.Error.safeParse(unauthorizedBody).success, JSON.stringify(unauthorizedBody)).toBe(true);
    const big = await fetch(`${postroom.baseUrl}/api/v1/settings`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${postroom.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ fromName: 'x'.repeat(200 * 1024) }),
    });
    expect(big.status).toBe(413);
    const bigBody: unknown = await big.json();
    expect(VIEWS.Error.safeParse(bigBody).success, JSON.stringify(bigBody)).toBe(true);
  });

  it('lets a vendor generate a typed client (openapi-typescript, openapi-fetch) that submits a message and reads the queue', async () => {
    await symlink(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    await writeFile(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023', 'DOM'], types: ['node'], strict: true, noUncheckedIndexedAccess: true, skipLibCheck: true, outDir: 'out' },
        files: ['client.ts', 'api.d.ts'],
      }),
    );
    await writeFile(path.join(dir, 'client.ts'), CLIENT);
    // Generated from the running service, as a vendor would.
    run(process.execPath, [path.join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), `${postroom.baseUrl}/api/docs.json`, '--output', path.join(dir, 'api.d.ts')], { cwd: dir });
    const types = await readFile(path.join(dir, 'api.d.ts'), 'utf8');
    expect(types).toContain('"/api/v1/messages"');
    expect(types).toMatch(/QueueEntry: \{/);
    run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { cwd: dir });
    const out = JSON.parse(run(process.execPath, [path.join(dir, 'out', 'client.js')], { cwd: dir, env: { BASE_URL: postroom.baseUrl, TOKEN: postroom.token } })) as {
      status: number;
      id: string;
      queued: { id: string; state: string; to: string[]; subject: string }[];
      one: { id: string; from: string } | null;
      total: number;
      refused: { status: number; reasons?: Record<string, string> };
      untitled: number;
    };
    expect(out.status).toBe(202);
    expect(out.queued).toContainEqual(expect.objectContaining({ id: out.id, to: ['ops@example.com'], subject: 'From a generated client' }));
    expect(out.one).toEqual({ id: out.id, from: 'alerts@nas.example.com' });
    expect(out.total).toBeGreaterThanOrEqual(1);
    expect(out.refused.status).toBe(400);
    expect(out.untitled).toBe(202);
    expect(out.refused.reasons?.to).toMatch(/recipient/);
  }, 120_000);
});
