import { beforeAll, describe, expect, it } from 'vitest';
import { dashboardPostroom } from '../helpers/dashboard-postroom.js';
import { WebSession } from '../helpers/web-session.js';

interface Row {
  id: string;
  primary?: boolean;
}

/**
 * The Relays, Channels and Rules pages open a row's panel from their address (?edit=, ?test=,
 * ?remove=), as their links and a bookmark do; a row that is gone leaves the add panel with a
 * message, and one that cannot be opened so (the primary relay's edit) is gone for that action.
 */
describe('List pages opened by their address', () => {
  const app = dashboardPostroom();
  let web: WebSession;
  let primary: Row;
  let backup: Row;
  let channel: Row;
  let rule: Row;

  beforeAll(async () => {
    const api = app.postroom.api.bind(app.postroom);
    expect((await api('PUT', '/api/v1/settings', { relayHost: 'primary.example.com', relayPort: 587, security: 'starttls' })).status).toBe(200);
    expect((await api('POST', '/api/v1/relays', { host: 'backup.example.com', port: 587, security: 'starttls' })).status).toBe(201);
    const relays = (await api<{ items: Row[] }>('GET', '/api/v1/relays')).body.items;
    primary = relays.find((r) => r.primary)!;
    backup = relays.find((r) => !r.primary)!;
    channel = (await api<Row>('POST', '/api/v1/channels', { type: 'webhook', name: 'Ops hook', url: 'https://hooks.example.com/x' })).body;
    rule = (await api<Row>('POST', '/api/v1/rules', { name: 'Disk alerts', match: { subject: '^disk' }, channels: [channel.id], when: 'always' })).body;
    web = await new WebSession(app.postroom).login();
  });

  const heading = (html: string) => /<h2 id="h-[a-z]+-(?:panel|add)">([\s\S]*?)<\/h2>/.exec(html)?.[1]?.replace(/<[^>]+>/g, '');

  it('opens the panel a parameter names, the first that names a row', async () => {
    expect(heading((await web.get(`/rules?edit=${rule.id}`)).text)).toBe('Edit rule Disk alerts');
    expect(heading((await web.get(`/rules?remove=${rule.id}`)).text)).toBe('Remove the rule Disk alerts?');
    expect(heading((await web.get(`/channels?edit=${channel.id}`)).text)).toBe('Edit channel Ops hook');
    expect(heading((await web.get(`/channels?remove=${channel.id}`)).text)).toBe('Remove the channel Ops hook?');
    expect(heading((await web.get(`/relays?edit=${backup.id}`)).text)).toBe('Edit backup relay backup.example.com:587');
    expect(heading((await web.get(`/relays?test=${primary.id}`)).text)).toBe('Test the primary relay primary.example.com:587');
    expect(heading((await web.get(`/relays?remove=${backup.id}`)).text)).toBe('Remove the backup relay backup.example.com:587?');
    // A gone row first, an existing one after: the existing one opens, with no message.
    const second = await web.get(`/rules?edit=999&remove=${rule.id}`);
    expect(heading(second.text)).toBe('Remove the rule Disk alerts?');
    expect(second.text).not.toContain('may have been removed');
  });

  it('says a row is gone and shows the add panel', async () => {
    for (const [path, message] of [
      ['/rules?edit=999', 'No rule 999: it may have been removed.'],
      ['/channels?remove=999', 'No channel 999: it may have been removed.'],
      ['/relays?test=999', 'No relay 999: it may have been removed.'],
      // The primary relay is changed on Edit Settings: this page does not edit or remove it.
      [`/relays?edit=${primary.id}`, `No relay ${primary.id}: it may have been removed.`],
    ] as const) {
      const page = await web.get(path);
      expect(page.status, path).toBe(200);
      expect(page.text, path).toContain(message);
      expect(heading(page.text), path).toMatch(/^Add /);
    }
  });
});
