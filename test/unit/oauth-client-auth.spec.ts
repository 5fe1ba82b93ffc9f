import { describe, expect, it } from 'vitest';
import { ClientAuthChoice } from '../../src/delivery/oauth/client-auth-choice.js';
import { authenticateClient, basicCredentials } from '../../src/delivery/oauth/client-auth.js';
import { requestToken } from '../../src/delivery/oauth/token-endpoint.js';

/** A token endpoint as a fetch function: answers by how the client authenticated. */
function endpoint(accepts: 'post' | 'basic' | 'none', grant: 'ok' | 'invalid_grant' = 'ok') {
  const seen: { authorization: string | null; body: Record<string, string> }[] = [];
  const fetch = (async (_url: string, init: RequestInit) => {
    const headers = new Headers(init.headers);
    const body = Object.fromEntries(new URLSearchParams(String(init.body)));
    seen.push({ authorization: headers.get('authorization'), body });
    const method = headers.get('authorization') ? 'basic' : body.client_secret !== undefined ? 'post' : 'none';
    if (method !== accepts) return Response.json({ error: 'invalid_client', error_description: `not ${method}` }, { status: 401 });
    if (grant === 'invalid_grant') return Response.json({ error: 'invalid_grant', error_description: 'expired' }, { status: 400 });
    return Response.json({ access_token: `token-by-${method}`, expires_in: 3600 });
  }) as unknown as typeof globalThis.fetch;
  return { fetch, seen, methods: () => seen.map((s) => (s.authorization ? 'basic' : s.body.client_secret !== undefined ? 'post' : 'none')) };
}

const URL_ = 'https://login.example.com/token';
const PARAMS = { grant_type: 'client_credentials', client_id: 'postroom client:1', client_secret: 'p@ss w/rd+%:', scope: 'smtp' };

describe('client_secret_basic (RFC 6749 §2.3.1)', () => {
  it('form-urlencodes the client id and secret, joins them with a colon and base64-encodes that', () => {
    const header = basicCredentials('postroom client:1', 'p@ss w/rd+%:');
    expect(header).toBe(`Basic ${Buffer.from('postroom+client%3A1:p%40ss+w%2Frd%2B%25%3A').toString('base64')}`);
  });

  it('moves the client id and secret from the body to the header; a request without a secret stays as it is', () => {
    expect(authenticateClient(PARAMS, 'basic')).toEqual({ params: { grant_type: 'client_credentials', scope: 'smtp' }, authorization: basicCredentials(PARAMS.client_id, PARAMS.client_secret) });
    expect(authenticateClient(PARAMS, 'post')).toEqual({ params: PARAMS });
    const jwt = { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: 'x.y.z' };
    expect(authenticateClient(jwt, 'basic')).toEqual({ params: jwt });
  });

  it('a token request with HTTP Basic sends the header and says so in what a failure shows', async () => {
    const stub = endpoint('post');
    await expect(requestToken(URL_, PARAMS, { fetch: stub.fetch, clientAuth: 'basic' })).rejects.toMatchObject({ error: 'invalid_client', request: { url: URL_, grantType: 'client_credentials', clientAuth: 'basic' } });
    expect(stub.seen[0]).toEqual({ authorization: basicCredentials(PARAMS.client_id, PARAMS.client_secret), body: { grant_type: 'client_credentials', scope: 'smtp' } });
  });
});

describe('ClientAuthChoice', () => {
  it('auto: the body first; after invalid_client HTTP Basic once, then HTTP Basic first from then on', async () => {
    const stub = endpoint('basic');
    const choice = new ClientAuthChoice();
    expect((await choice.request(URL_, PARAMS, 'auto', { fetch: stub.fetch })).accessToken).toBe('token-by-basic');
    expect((await choice.request(URL_, PARAMS, 'auto', { fetch: stub.fetch })).accessToken).toBe('token-by-basic');
    expect(stub.methods()).toEqual(['post', 'basic', 'basic']);
  });

  it('auto with a provider that takes the body: one request, as before', async () => {
    const stub = endpoint('post');
    expect((await new ClientAuthChoice().request(URL_, PARAMS, 'auto', { fetch: stub.fetch })).accessToken).toBe('token-by-post');
    expect(stub.methods()).toEqual(['post']);
  });

  it('auto refused both ways (a wrong secret): the first answer stands, and nothing is remembered', async () => {
    const stub = endpoint('none');
    const choice = new ClientAuthChoice();
    await expect(choice.request(URL_, PARAMS, 'auto', { fetch: stub.fetch })).rejects.toMatchObject({ error: 'invalid_client', description: 'not post' });
    await expect(choice.request(URL_, PARAMS, 'auto', { fetch: stub.fetch })).rejects.toMatchObject({ description: 'not post' });
    expect(stub.methods()).toEqual(['post', 'basic', 'post', 'basic']);
  });

  it('auto: HTTP Basic that gets past client authentication but fails the grant is the answer, and remembered', async () => {
    const stub = endpoint('basic', 'invalid_grant');
    const choice = new ClientAuthChoice();
    await expect(choice.request(URL_, PARAMS, 'auto', { fetch: stub.fetch })).rejects.toMatchObject({ error: 'invalid_grant' });
    await expect(choice.request(URL_, PARAMS, 'auto', { fetch: stub.fetch })).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(stub.methods()).toEqual(['post', 'basic', 'basic']);
  });

  it('what worked is remembered for that endpoint and client only', async () => {
    const stub = endpoint('basic');
    const choice = new ClientAuthChoice();
    await choice.request(URL_, PARAMS, 'auto', { fetch: stub.fetch });
    await choice.request(URL_, { ...PARAMS, client_id: 'another' }, 'auto', { fetch: stub.fetch });
    expect(stub.methods()).toEqual(['post', 'basic', 'post', 'basic']);
  });

  it('post and basic are used as set, without a second try', async () => {
    const basicOnly = endpoint('basic');
    await expect(new ClientAuthChoice().request(URL_, PARAMS, 'post', { fetch: basicOnly.fetch })).rejects.toMatchObject({ error: 'invalid_client' });
    expect(basicOnly.methods()).toEqual(['post']);
    const postOnly = endpoint('post');
    await expect(new ClientAuthChoice().request(URL_, PARAMS, 'basic', { fetch: postOnly.fetch })).rejects.toMatchObject({ error: 'invalid_client' });
    expect(postOnly.methods()).toEqual(['basic']);
  });

  it('a public client (no secret) sends its id in the body whatever the setting', async () => {
    const stub = endpoint('none');
    const { client_secret: _secret, ...publicClient } = PARAMS;
    expect((await new ClientAuthChoice().request(URL_, publicClient, 'basic', { fetch: stub.fetch })).accessToken).toBe('token-by-none');
    expect(stub.seen[0]!.body.client_id).toBe('postroom client:1');
  });
});
