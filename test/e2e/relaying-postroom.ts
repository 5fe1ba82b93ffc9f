import { afterAll, beforeAll, expect } from 'vitest';
import { createTestDatabase } from '../helpers/db.js';
import { PostroomProcess } from '../helpers/postroom-process.js';
import { SinkOptions, SmtpSink } from '../helpers/smtp-sink.js';
import { RawSmtp } from './raw-smtp.js';

export interface RelayingPostroom {
  postroom: PostroomProcess;
  sink: SmtpSink;
  /** A raw SMTP session to the listener (closed after the file's tests). */
  open(localAddress?: string): Promise<RawSmtp>;
}

/**
 * The compiled Postroom on a database of its own, relaying to a loopback SMTP sink: started
 * before the calling file's tests (in its describe block), stopped with everything it opened
 * after them. `env` and `settings` add to the defaults.
 */
export function relayingPostroom(options: { env?: Record<string, string>; sink?: SinkOptions; settings?: Record<string, unknown> } = {}): RelayingPostroom {
  let db: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  const sessions: RawSmtp[] = [];
  const fixture: RelayingPostroom = {
    postroom: undefined as unknown as PostroomProcess,
    sink: new SmtpSink({ starttls: false, ...options.sink }),
    async open(localAddress?: string) {
      const s = await RawSmtp.connect(fixture.postroom.smtpPort, { localAddress });
      sessions.push(s);
      return s;
    },
  };
  beforeAll(async () => {
    db = await createTestDatabase();
    await fixture.sink.start();
    fixture.postroom = await new PostroomProcess({ databaseUrl: db.url, env: options.env }).start();
    const r = await fixture.postroom.api('PUT', '/api/v1/settings', { relayHost: '127.0.0.1', relayPort: fixture.sink.port, security: 'none', authEnabled: false, ...options.settings });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
  });
  afterAll(async () => {
    for (const s of sessions) s.close();
    await fixture.postroom?.dispose();
    await fixture.sink.stop();
    await db?.drop();
  });
  return fixture;
}
