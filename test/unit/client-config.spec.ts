import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.schema.js';
import { loadClientConfig } from '../../src/config/client-config.js';

/** What a reader made of env: the CLI's settings, or the names of the variables it refused. */
function outcome(read: () => { dataDir: string; http: { host: string; port: number }; apiToken: string | undefined }) {
  try {
    const c = read();
    return { dataDir: c.dataDir, http: c.http, apiToken: c.apiToken };
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return { refused: (err as ConfigError).problems.map((p) => p.split(':')[0]) };
  }
}

describe('loadClientConfig', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'postroom-client-config-'));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const envs: Record<string, NodeJS.ProcessEnv> = {
    'nothing set': {},
    'a relative DATA_DIR': { DATA_DIR: 'var/spool' },
    'an absolute DATA_DIR with blanks': { DATA_DIR: ' /var/lib/postroom ' },
    'a blank DATA_DIR': { DATA_DIR: '  ' },
    'an empty HTTP_HOST': { HTTP_HOST: '' },
    'HTTP_HOST with blanks': { HTTP_HOST: ' ::1 ', HTTP_PORT: '9000' },
    ...Object.fromEntries(['0x50', ' 80 ', '1e3', '+80', '', ' ', 'abc', '0', '65536', '80.5', '-1', 'Infinity'].map((v) => [`HTTP_PORT ${JSON.stringify(v)}`, { HTTP_PORT: v }])),
    'an empty API_TOKEN': { API_TOKEN: '' },
    'a short API_TOKEN': { API_TOKEN: 'tooshort-secret' },
    'a long API_TOKEN with blanks': { API_TOKEN: ' '.repeat(8) + 'x'.repeat(8) },
    'several bad values': { DATA_DIR: ' ', HTTP_PORT: 'x', API_TOKEN: 'short' },
    'a file under the environment': { POSTROOM_CONFIG: file('a.env', 'DATA_DIR="var/spool"\nexport HTTP_PORT=9025\nHTTP_HOST=0.0.0.0\n'), HTTP_HOST: '::' },
    'a bad port in the file': { POSTROOM_CONFIG: file('b.env', 'HTTP_PORT=99999\n') },
    'an unknown setting in the file': { POSTROOM_CONFIG: file('c.env', 'HTTP_PROT=1\n') },
    'a named file that is missing': { POSTROOM_CONFIG: path.join(dir, 'missing.env') },
  };

  it.each(Object.entries(envs))('reads what loadConfig reads: %s', (_name, env) => {
    expect(outcome(() => loadClientConfig(env))).toEqual(outcome(() => loadConfig(env)));
  });

  it('gives the same message as loadConfig for a bad configuration file', () => {
    const env = { POSTROOM_CONFIG: file('d.env', 'HTTP_PORT=1\nnot a setting\n') };
    expect(() => loadClientConfig(env)).toThrow(/d\.env:2: expected NAME=value/);
  });

  it('never echoes API_TOKEN', () => {
    expect(() => loadClientConfig({ API_TOKEN: 'tooshort-secret' })).toThrow('API_TOKEN: must be at least 16 characters (got "…")');
  });

  it('leaves the settings it does not need to the service', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(ConfigError);
    expect(loadClientConfig({ LOG_LEVEL: 'verbose' }).http.port).toBe(8025);
  });
});
