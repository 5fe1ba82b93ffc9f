/**
 * The few settings the CLI needs to reach the running service, read as loadConfig reads them
 * (the environment over the configuration file, the same defaults and rules) but without the
 * schema: zod and the modules the full configuration pulls in cost a command line more time than
 * all its own work. The unit tests hold the two readers to the same answers.
 */
import path from 'node:path';
import { ConfigError } from './config-error.js';
import { INSTALL_DIR, withConfigFile } from './config-file.js';

export interface ClientConfig {
  dataDir: string;
  http: { host: string; port: number };
  apiToken: string | undefined;
}

/** DATA_DIR, HTTP_HOST, HTTP_PORT and API_TOKEN; a ConfigError names each bad one. */
export function loadClientConfig(processEnv: NodeJS.ProcessEnv = process.env): ClientConfig {
  const env = withConfigFile(processEnv);
  const problems: string[] = [];
  const problem = (name: string, message: string, shown = env[name]) => problems.push(`${name}: ${message} (got "${shown}")`);

  const text = (name: string, fallback: string): string => {
    const raw = env[name];
    if (raw === undefined) return fallback;
    if (raw.trim() === '') problem(name, 'must not be empty');
    return raw.trim();
  };
  const dataDir = text('DATA_DIR', './data');
  const host = text('HTTP_HOST', '127.0.0.1');

  // As the schema's z.coerce.number(): Number() of the text, so "0x50" and " 80 " are 80; an
  // empty value means unset there too (the default applies).
  const rawPort = env.HTTP_PORT;
  const port = rawPort === undefined || rawPort.trim() === '' ? 8025 : Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problem('HTTP_PORT', 'must be a port number (1-65535)');

  // Not trimmed, and empty means unset, as in the schema. Never echoed.
  const apiToken = env.API_TOKEN || undefined;
  if (apiToken !== undefined && apiToken.length < 16) problem('API_TOKEN', 'must be at least 16 characters', '…');

  if (problems.length) throw new ConfigError(problems);
  return { dataDir: path.resolve(INSTALL_DIR, dataDir), http: { host, port }, apiToken };
}
