import { createHash, randomBytes } from 'node:crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** How a token request authenticated its client: in the form body, or with HTTP Basic (decoded). */
export type StubClientAuth = { method: 'post' } | { method: 'basic'; clientId: string; clientSecret: string } | { method: 'none' };

/** The form-urlencoded decoding of RFC 6749 §2.3.1 ('+' is a space). */
const formDecode = (v: string): string => decodeURIComponent(v.replace(/\+/g, ' '));

/** A stub OAuth2 token endpoint (and Google-like authorization endpoint) on loopback. */
export class TokenStub {
  private server?: Server;
  port = 0;
  /** Every token request's form parameters. */
  readonly requests: Record<string, string>[] = [];
  /** How each request (same index as `requests`) authenticated its client. */
  readonly clientAuths: StubClientAuth[] = [];
  /** Tokens it issued, in order. */
  readonly issued: string[] = [];
  /** Every refresh token it handed out (the first one included), in order. */
  readonly refreshTokens: string[] = [];
  mode: 'ok' | 'invalid_client' = 'ok';
  /** Which client authentication it accepts: 'any', or HTTP Basic only (a client secret in the body is refused). */
  accepts: 'any' | 'basic' = 'any';
  /** With `accepts: 'basic'`: the client id and secret the Basic credentials must carry. */
  client?: { id: string; secret: string };
  /** Answer each refresh-token grant with a new refresh token and accept only the latest (RFC 6749 §6). */
  rotate = false;
  expiresIn = 3600;
  /** Authorization codes it handed out, with the PKCE challenge they were bound to. */
  readonly codes = new Map<string, { challenge: string; clientId: string }>();
  refreshToken = 'stub-refresh-' + randomBytes(8).toString('hex');

  constructor() {
    this.refreshTokens.push(this.refreshToken);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const json = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    };
    if (req.method !== 'POST' || !req.url?.startsWith('/token')) return json(404, { error: 'not_found' });
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return json(400, { error: 'invalid_request', error_description: 'form-encoded only' });
    const params = Object.fromEntries(new URLSearchParams(body));
    const auth = clientAuthOf(req.headers.authorization, params);
    this.requests.push(params);
    this.clientAuths.push(auth);
    if (this.mode === 'invalid_client') return json(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.\r\nTrace ID: 1234' });
    if (this.accepts === 'basic') {
      if (auth.method !== 'basic') return json(401, { error: 'invalid_client', error_description: 'client authentication by HTTP Basic only (client_secret_basic)' });
      if (this.client && (auth.clientId !== this.client.id || auth.clientSecret !== this.client.secret)) return json(401, { error: 'invalid_client', error_description: 'wrong client credentials' });
    }
    if (params.grant_type === 'authorization_code') {
      const bound = this.codes.get(params.code ?? '');
      const challenge = createHash('sha256').update(params.code_verifier ?? '').digest('base64url');
      if (!bound || bound.challenge !== challenge || bound.clientId !== params.client_id) return json(400, { error: 'invalid_grant', error_description: 'bad code or verifier' });
      this.codes.delete(params.code!);
      return json(200, { access_token: this.issue(), expires_in: 3599, refresh_token: this.refreshToken, token_type: 'Bearer' });
    }
    if (params.grant_type === 'refresh_token' && this.rotate) {
      if (params.refresh_token !== this.refreshToken) return json(400, { error: 'invalid_grant', error_description: 'the refresh token was rotated: only the latest is valid' });
      this.refreshToken = 'stub-refresh-' + randomBytes(8).toString('hex');
      this.refreshTokens.push(this.refreshToken);
      return json(200, { access_token: this.issue(), expires_in: this.expiresIn, refresh_token: this.refreshToken, token_type: 'Bearer' });
    }
    return json(200, { access_token: this.issue(), expires_in: this.expiresIn, token_type: 'Bearer' });
  }

  private issue(): string {
    const t = 'stub-access-' + randomBytes(12).toString('hex');
    this.issued.push(t);
    return t;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

function clientAuthOf(header: string | undefined, params: Record<string, string>): StubClientAuth {
  const basic = /^Basic (.+)$/i.exec(header ?? '');
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return { method: 'basic', clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  }
  return params.client_secret !== undefined ? { method: 'post' } : { method: 'none' };
}

/** A relay that accepts only SASL XOAUTH2 with a token the stub issued; records the token per message. */
export class XOAuth2Relay {
  private server?: SMTPServer;
  port = 0;
  readonly messages: { to: string[]; token: string; user: string }[] = [];
  readonly auths: { method: string; user: string; token: string; ok: boolean }[] = [];

  constructor(private readonly valid: () => string[]) {}

  async start(): Promise<this> {
    this.server = new SMTPServer({
      authMethods: ['XOAUTH2'],
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 500,
      onAuth: (auth, _session, cb) => {
        const ok = auth.method === 'XOAUTH2' && !!auth.accessToken && this.valid().includes(auth.accessToken);
        this.auths.push({ method: auth.method, user: auth.username ?? '', token: auth.accessToken ?? '', ok });
        if (!ok) return cb(Object.assign(new Error('5.7.3 Authentication unsuccessful'), { responseCode: 535 }));
        cb(null, { user: `${auth.username}\n${auth.accessToken}` });
      },
      onData: (stream, session, cb) => {
        stream.resume();
        stream.on('end', () => {
          const [user = '', token = ''] = String(session.user ?? '').split('\n');
          this.messages.push({ to: session.envelope.rcptTo.map((r) => r.address), token, user });
          cb();
        });
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
