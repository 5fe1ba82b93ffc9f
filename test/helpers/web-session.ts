import { PostroomProcess } from './postroom-process.js';

/**
 * A logged-in dashboard session over plain HTTP (cookie + CSRF token), for page and fragment
 * tests. Start the Postroom with env ADMIN_PASSWORD = WEB_PASSWORD.
 */
export const WEB_PASSWORD = 'correct horse battery staple';

export class WebSession {
  cookie = '';
  csrf = '';

  constructor(private readonly postroom: PostroomProcess) {}

  /** Fetches a page (following nothing); remembers the session cookie and the latest CSRF token. */
  async request(method: string, path: string, options: { form?: Record<string, string | string[]>; htmx?: boolean; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Headers; text: string }> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (this.cookie) headers.cookie = this.cookie;
    if (options.htmx) headers['hx-request'] = 'true';
    let body: string | undefined;
    if (options.form) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(options.form)) for (const item of Array.isArray(v) ? v : [v]) params.append(k, item);
      body = params.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(this.postroom.baseUrl + path, { method, headers, body, redirect: 'manual' });
    const setCookie = res.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0]!;
    const text = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text);
    if (token) this.csrf = token[1]!;
    return { status: res.status, headers: res.headers, text };
  }

  get(path: string, htmx = false) {
    return this.request('GET', path, { htmx });
  }

  /** POSTs a form with the session's CSRF token (pass `_csrf` yourself to override it). */
  post(path: string, form: Record<string, string | string[]> = {}, htmx = false) {
    return this.request('POST', path, { form: { _csrf: this.csrf, ...form }, htmx });
  }

  async login(password = WEB_PASSWORD): Promise<this> {
    await this.get('/login');
    const res = await this.post('/login', { password, next: '/' });
    if (res.status !== 303) throw new Error(`login failed: ${res.status} ${res.text.slice(0, 200)}`);
    await this.get('/');
    return this;
  }
}
