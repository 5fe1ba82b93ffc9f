/**
 * The configuration file: the environment variables of `configSchema` written as `NAME=value`
 * lines, read by the service, the CLI and the sendmail drop-in alike, so that programs started
 * with an empty environment (cron, smartd, mdadm) agree on DATA_DIR and the ports.
 *
 * Format (the drop-in's shell reader follows the same rules): one `NAME=value` per line; blank
 * lines and lines starting with `#` are ignored; an `export ` before the name is allowed; blanks
 * around the name and the value are trimmed; a value wrapped in a matching pair of single or
 * double quotes loses them. Nothing is expanded or unescaped.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from './config-error.js';
import { KNOWN_CONFIG_NAMES } from './config-names.js';

/** Where the file is unless POSTROOM_CONFIG names another. */
export const DEFAULT_CONFIG_FILE = '/etc/postroom/postroom.env';

/** Parses the text of a configuration file; `where` names it in errors. */
export function parseConfigFile(text: string, where: string, known: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = /^export[ \t]/.test(line) ? line.slice(7).trimStart() : line;
    const eq = body.indexOf('=');
    const name = eq === -1 ? '' : body.slice(0, eq).trim();
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new ConfigError([`${where}:${i + 1}: expected NAME=value`]);
    if (!known.has(name)) throw new ConfigError([`${where}:${i + 1}: ${name} is not a Postroom setting`]);
    let value = body.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) value = value.slice(1, -1);
    out[name] = value;
  });
  return out;
}

/**
 * The file's settings under the environment's: `env` wins for every name it sets (to more than
 * an empty value). The file is
 * POSTROOM_CONFIG, else DEFAULT_CONFIG_FILE; a missing default file is no error, a missing file
 * that POSTROOM_CONFIG names is (a ConfigError, as is a bad line).
 */
export function withConfigFile(env: NodeJS.ProcessEnv, known: ReadonlySet<string> = KNOWN_CONFIG_NAMES): NodeJS.ProcessEnv {
  const named = env.POSTROOM_CONFIG?.trim();
  const file = named || DEFAULT_CONFIG_FILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !named) return env;
    throw new ConfigError([`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`]);
  }
  const merged: NodeJS.ProcessEnv = { ...parseConfigFile(text, file, known) };
  // An empty variable counts as unset, as in the sendmail drop-in's reader: the file's value stands.
  for (const [name, value] of Object.entries(env)) if (value !== undefined && (value !== '' || merged[name] === undefined)) merged[name] = value;
  return merged;
}

/**
 * Postroom's installation directory (the one holding package.json): a relative DATA_DIR is
 * taken from here, so that the service, the CLI and the drop-in find the same directory
 * whatever their working directory.
 */
export const INSTALL_DIR = ((): string => {
  let dir = import.meta.dirname;
  for (let i = 0; i < 5; i++) {
    const up = path.dirname(dir);
    if (path.basename(dir) === 'src') return path.basename(up) === 'dist' ? path.dirname(up) : up;
    dir = up;
  }
  return process.cwd();
})();
