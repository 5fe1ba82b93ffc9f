import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError, UnreachableError } from '../../src/cli/api-client.js';
import { freePort } from '../helpers/postroom-process.js';

/** The CLI's HTTP client against a server on loopback that answers as Postroom, or as a proxy in front of it would. */
describe('the CLI API client', () => {
  const TOKEN = 'cli-client-token-0123456789';
  let server: Server;
  let client: ApiClient;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized"}');
      if (req.url === '/text') return void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('Grand Totals\n  3 received ✓\n');
      if (req.url === '/json') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[],"nextCursor":null}');
      if (req.url === '/refused') return void res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"Invalid query","fields":{"top":"must be a whole number from 1 to 100"}}');
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, TOKEN);
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('gives a text answer as the server wrote it, and a JSON answer parsed', async () => {
    expect(await client.text('/text')).toBe('Grand Totals\n  3 received ✓\n');
    expect(await client.request('GET', '/json')).toEqual({ items: [], nextCursor: null });
  });

  it('turns a refusal into an ApiError with the reason per field, for text and JSON calls alike', async () => {
    for (const call of [() => client.text('/refused'), () => client.request('GET', '/refused')]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ status: 400, message: 'Invalid query (top: must be a whole number from 1 to 100)' });
    }
  });

  it('names the status of an answer that is not JSON (a proxy in front of Postroom) instead of failing to parse it', async () => {
    await expect(client.request('GET', '/elsewhere')).rejects.toMatchObject({ status: 502, message: 'Bad Gateway' });
  });

  it('sends its token, and says so when it is refused', async () => {
    const wrong = new ApiClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'another-token-0123456789');
    await expect(wrong.text('/text')).rejects.toMatchObject({ status: 401, message: 'Unauthorized' });
  });

  it('says Postroom cannot be reached when nothing listens', async () => {
    const nobody = new ApiClient(`http://127.0.0.1:${await freePort()}`, TOKEN);
    await expect(nobody.text('/text')).rejects.toBeInstanceOf(UnreachableError);
  });
});
