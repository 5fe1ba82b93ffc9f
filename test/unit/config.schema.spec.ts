import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, allowedNetworkList, loadConfig } from '../../src/config/config.schema.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** The ConfigError loadConfig throws for env, or a failure when it does not throw one. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('uses the documented defaults when the environment is empty', () => {
    expect(loadConfig({})).toEqual({
      databaseUrl: undefined,
      dataDir: path.join(ROOT, 'data'),
      http: { host: '127.0.0.1', port: 8025 },
      smtp: {
        host: '127.0.0.1',
        port: 2525,
        allowedNetworks: ['127.0.0.0/8', '::1/128'],
        maxMessageBytes: 25 * 1024 * 1024,
        maxRecipients: 100,
        maxSessions: 200,
        maxSessionsPerClient: 100,
        sessionDeadlineSeconds: 600,
        dataDeadlineSeconds: 60,
        minDataRate: 500,
      },
      adminPassword: undefined,
      apiToken: undefined,
      secretKey: undefined,
      embeddedPgPort: undefined,
      directPort: 25,
      instanceName: `${os.hostname()}-${process.pid}`,
      leaseSeconds: 600,
      relayRetrySeconds: 30,
      selfCheckSeconds: 15,
      sessionLifetimeHours: 12,
      trustProxy: [],
      logLevel: 'info',
      oauth: { microsoftLoginBase: 'https://login.microsoftonline.com', googleAuthUrl: 'https://accounts.google.com/o/oauth2/v2/auth', googleTokenUrl: 'https://oauth2.googleapis.com/token' },
    });
  });

  it('reads every variable when they are set', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://postroom@db/postroom',
      DATA_DIR: '/var/lib/postroom',
      HTTP_HOST: '0.0.0.0',
      HTTP_PORT: '9000',
      SMTP_LISTEN_HOST: '::',
      SMTP_LISTEN_PORT: '25',
      SMTP_ALLOWED_NETWORKS: ' 10.0.0.0/8 , 192.0.2.7,,2001:db8::/32 ',
      SMTP_MAX_MESSAGE_BYTES: '1024',
      SMTP_MAX_RECIPIENTS: '10000',
      SMTP_MAX_SESSIONS: '5',
      SMTP_MAX_SESSIONS_PER_CLIENT: '2',
      SMTP_SESSION_DEADLINE_SECONDS: '2',
      SMTP_DATA_DEADLINE_SECONDS: '1',
      SMTP_MIN_DATA_RATE: '100',
      ADMIN_PASSWORD: '  admin-pass  ',
      API_TOKEN: '0123456789abcdef',
      SECRET_KEY: 'passphrase',
      EMBEDDED_PG_PORT: '5433',
      DIRECT_SMTP_PORT: '2526',
      INSTANCE_NAME: 'node-a',
      DELIVERY_LEASE_SECONDS: '10',
      RELAY_RETRY_SECONDS: '5',
      SELF_CHECK_SECONDS: '2',
      SESSION_LIFETIME_HOURS: '8',
      TRUST_PROXY: ' loopback, 10.0.0.0/8 ',
      LOG_LEVEL: 'debug',
    });
    expect(config).toEqual({
      databaseUrl: 'postgresql://postroom@db/postroom',
      dataDir: '/var/lib/postroom',
      http: { host: '0.0.0.0', port: 9000 },
      smtp: {
        host: '::',
        port: 25,
        allowedNetworks: ['10.0.0.0/8', '192.0.2.7', '2001:db8::/32'],
        maxMessageBytes: 1024,
        maxRecipients: 10000,
        maxSessions: 5,
        maxSessionsPerClient: 2,
        sessionDeadlineSeconds: 2,
        dataDeadlineSeconds: 1,
        minDataRate: 100,
      },
      adminPassword: 'admin-pass',
      apiToken: '0123456789abcdef',
      secretKey: 'passphrase',
      embeddedPgPort: 5433,
      directPort: 2526,
      instanceName: 'node-a',
      leaseSeconds: 10,
      relayRetrySeconds: 5,
      selfCheckSeconds: 2,
      sessionLifetimeHours: 8,
      trustProxy: ['loopback', '10.0.0.0/8'],
      logLevel: 'debug',
      oauth: expect.any(Object),
    });
  });

  it('treats empty DATABASE_URL, API_TOKEN, ADMIN_PASSWORD and SECRET_KEY as unset', () => {
    const config = loadConfig({ DATABASE_URL: '  ', API_TOKEN: '', ADMIN_PASSWORD: '   ', SECRET_KEY: '' });
    expect([config.databaseUrl, config.apiToken, config.adminPassword, config.secretKey]).toEqual([undefined, undefined, undefined, undefined]);
  });

  it('takes an empty port variable as unset: the default applies', () => {
    const config = loadConfig({ HTTP_PORT: '', SMTP_LISTEN_PORT: ' ', EMBEDDED_PG_PORT: '', DIRECT_SMTP_PORT: '' });
    expect([config.http.port, config.smtp.port, config.embeddedPgPort, config.directPort]).toEqual([8025, 2525, undefined, 25]);
  });

  it.each(['abc', '0', '65536', '80.5', '-1'])('throws a ConfigError naming HTTP_PORT when it is %j', (value) => {
    const err = configError({ HTTP_PORT: value });
    expect(err.name).toBe('ConfigError');
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatch(/^HTTP_PORT: /);
    expect(err.problems[0]).toContain(`(got "${value}")`);
    expect(err.message).toBe(`Invalid configuration:\n  - ${err.problems[0]}`);
  });

  it('names the port range in the message of an out-of-range port', () => {
    expect(configError({ SMTP_LISTEN_PORT: '70000' }).problems).toEqual(['SMTP_LISTEN_PORT: must be a port number (1-65535) (got "70000")']);
  });

  it('names SMTP_ALLOWED_NETWORKS and each bad entry when entries are not addresses or CIDR networks', () => {
    expect(configError({ SMTP_ALLOWED_NETWORKS: '127.0.0.0/8,localhost,10.0.0.0/33' }).problems).toEqual([
      'SMTP_ALLOWED_NETWORKS: "localhost" is not an address or a network in CIDR form (got "127.0.0.0/8,localhost,10.0.0.0/33")',
      'SMTP_ALLOWED_NETWORKS: "10.0.0.0/33" is not an address or a network in CIDR form (got "127.0.0.0/8,localhost,10.0.0.0/33")',
    ]);
  });

  it('names TRUST_PROXY entries that are neither addresses, networks nor loopback / linklocal / uniquelocal, and a SESSION_LIFETIME_HOURS under an hour', () => {
    expect(configError({ TRUST_PROXY: 'loopback,true', SESSION_LIFETIME_HOURS: '0.5' }).problems).toEqual([
      'SESSION_LIFETIME_HOURS: must be a whole number of hours (got "0.5")',
      'TRUST_PROXY: "true" is not an address or a network in CIDR form, nor loopback, linklocal or uniquelocal (got "loopback,true")',
    ]);
  });

  it.each(['10.0.0.0/', '10.0.0.0/x', '10.0.0.0/-1', '10.0.0.0/8/8', '10.0.0.0/ 8', '::1/129', '/8', '300.1.1.1', '10.0.0.0/1e1'])(
    'rejects the allowed network %j instead of reading a wrong prefix',
    (value) => {
      expect(configError({ SMTP_ALLOWED_NETWORKS: value }).problems[0]).toMatch(/^SMTP_ALLOWED_NETWORKS: /);
    },
  );

  it('rejects an API_TOKEN shorter than 16 characters without echoing it', () => {
    const token = 'tooshort-secret';
    const err = configError({ API_TOKEN: token });
    expect(err.problems).toEqual(['API_TOKEN: must be at least 16 characters (got "…")']);
    expect(err.message).not.toContain(token);
  });

  it('lists every bad variable in one error', () => {
    const err = configError({ HTTP_PORT: 'x', LOG_LEVEL: 'verbose', DATABASE_URL: 'mysql://db/postroom', DELIVERY_LEASE_SECONDS: '5' });
    expect(err.problems.map((p) => p.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'DELIVERY_LEASE_SECONDS', 'HTTP_PORT', 'LOG_LEVEL']);
    expect(err.problems).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL (got "…")'); // a URL may hold a password: never echoed
    expect(err.problems).toContain('DELIVERY_LEASE_SECONDS: must be at least 10 (got "5")');
  });

  it('rejects SMTP limits below their minimum', () => {
    expect(configError({ SMTP_MAX_MESSAGE_BYTES: '1023' }).problems).toEqual(['SMTP_MAX_MESSAGE_BYTES: must be at least 1024 (got "1023")']);
    expect(configError({ SMTP_MAX_RECIPIENTS: '0' }).problems).toEqual(['SMTP_MAX_RECIPIENTS: must be at least 1 (got "0")']);
    expect(configError({ SMTP_SESSION_DEADLINE_SECONDS: '0' }).problems).toEqual(['SMTP_SESSION_DEADLINE_SECONDS: must be at least 1 (got "0")']);
    expect(configError({ SMTP_DATA_DEADLINE_SECONDS: '0.5' }).problems).toEqual(['SMTP_DATA_DEADLINE_SECONDS: must be a whole number of seconds (got "0.5")']);
    expect(configError({ SMTP_MIN_DATA_RATE: '0' }).problems).toEqual(['SMTP_MIN_DATA_RATE: must be at least 1 (got "0")']);
  });
});

describe('allowedNetworkList', () => {
  it('allows loopback and nothing else with the default networks', () => {
    const list = allowedNetworkList(loadConfig({}).smtp.allowedNetworks);
    expect(list.check('127.0.0.1', 'ipv4')).toBe(true);
    expect(list.check('127.0.0.5', 'ipv4')).toBe(true);
    expect(list.check('127.255.255.254', 'ipv4')).toBe(true);
    expect(list.check('::1', 'ipv6')).toBe(true);
    expect(list.check('10.0.0.1', 'ipv4')).toBe(false);
    expect(list.check('128.0.0.1', 'ipv4')).toBe(false);
    expect(list.check('::2', 'ipv6')).toBe(false);
  });

  it('matches an IPv4-mapped IPv6 client address against an IPv4 network', () => {
    const list = allowedNetworkList(['127.0.0.0/8']);
    expect(list.check('::ffff:127.0.0.1', 'ipv6')).toBe(true);
    expect(list.check('::ffff:10.0.0.1', 'ipv6')).toBe(false);
  });

  it('treats an entry without a prefix as a single address', () => {
    const list = allowedNetworkList(['192.0.2.7', '2001:db8::25']);
    expect(list.check('192.0.2.7', 'ipv4')).toBe(true);
    expect(list.check('192.0.2.8', 'ipv4')).toBe(false);
    expect(list.check('2001:db8::25', 'ipv6')).toBe(true);
    expect(list.check('2001:db8::26', 'ipv6')).toBe(false);
  });

  it('honours the prefix length of each network', () => {
    const list = allowedNetworkList(['172.16.0.0/12', '2001:db8::/32']);
    expect(list.check('172.31.255.1', 'ipv4')).toBe(true);
    expect(list.check('172.32.0.1', 'ipv4')).toBe(false);
    expect(list.check('2001:db8:ffff::1', 'ipv6')).toBe(true);
    expect(list.check('2001:db9::1', 'ipv6')).toBe(false);
  });

  it('allows nobody when the list is empty', () => {
    expect(allowedNetworkList([]).check('127.0.0.1', 'ipv4')).toBe(false);
  });
});

describe('loadConfig with a configuration file', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'postroom-config-'));
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads NAME=value lines, comments, export, blanks and quotes; the environment wins', () => {
    const conf = file('a.env', '# Postroom\n\nDATA_DIR = "/var/lib/postroom"\nexport HTTP_PORT=9025\nSMTP_LISTEN_PORT=\'25\'\r\nLOG_LEVEL=warn\n');
    const config = loadConfig({ POSTROOM_CONFIG: conf, LOG_LEVEL: 'debug' });
    expect(config.dataDir).toBe('/var/lib/postroom');
    expect(config.http.port).toBe(9025);
    expect(config.smtp.port).toBe(25);
    expect(config.logLevel).toBe('debug');
  });

  it('takes an empty variable in the environment as unset, as the sendmail drop-in does: the file\'s value stands; TZ is read too', () => {
    const conf = file('tz.env', 'HTTP_PORT=9025\nTZ=Asia/Kolkata\n');
    const config = loadConfig({ POSTROOM_CONFIG: conf, HTTP_PORT: '', TZ: '' });
    expect(config.http.port).toBe(9025);
    expect(config.timeZone).toBe('Asia/Kolkata');
    expect(loadConfig({ POSTROOM_CONFIG: conf, TZ: 'UTC' }).timeZone).toBe('UTC');
  });

  it('takes a relative DATA_DIR from the installation directory, not the working directory', () => {
    expect(loadConfig({ POSTROOM_CONFIG: file('b.env', 'DATA_DIR=var/spool\n') }).dataDir).toBe(path.join(ROOT, 'var', 'spool'));
  });

  it('names the file and line of a bad line or an unknown setting, and a named file that is missing', () => {
    expect(() => loadConfig({ POSTROOM_CONFIG: file('c.env', 'HTTP_PORT=1\nnot a setting\n') })).toThrow(/c\.env:2: expected NAME=value/);
    expect(() => loadConfig({ POSTROOM_CONFIG: file('d.env', 'HTTP_PROT=1\n') })).toThrow(/d\.env:1: HTTP_PROT is not a Postroom setting/);
    expect(() => loadConfig({ POSTROOM_CONFIG: path.join(dir, 'missing.env') })).toThrow(ConfigError);
    expect(() => loadConfig({ POSTROOM_CONFIG: path.join(dir, 'missing.env') })).toThrow(/cannot read .*missing\.env: no such file/);
  });

  it('validates values from the file like those from the environment', () => {
    expect(() => loadConfig({ POSTROOM_CONFIG: file('e.env', 'HTTP_PORT=99999\n') })).toThrow(/HTTP_PORT: must be a port number/);
  });
});
