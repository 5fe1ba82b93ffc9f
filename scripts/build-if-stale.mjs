#!/usr/bin/env node
/**
 * Builds dist/ only when a compiler input is newer than the last successful build, so that
 * `npm start` (prestart) and `npm ci` (prepare) cost a few milliseconds on a built tree instead
 * of a full compile. `npm run build` touches dist/.build-stamp when tsc succeeds.
 *
 * Without src/ there is nothing to build: a dependencies-only install (the Dockerfile's `npm ci`
 * layer, before the sources are copied).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const STAMP = path.join(root, 'dist', '.build-stamp');
const INPUT_DIRS = ['src', 'migrations'];
// The lockfile too: the CLI bundle (rolldown) carries its npm modules inside it.
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'rolldown.config.mjs', 'package.json', 'package-lock.json'];

/** The newest modification time among the compiler's inputs (tsconfig.build.json's "include"). */
function newestInput() {
  let newest = 0;
  const consider = (file) => (newest = Math.max(newest, statSync(file).mtimeMs));
  for (const dir of INPUT_DIRS) {
    const abs = path.join(root, dir);
    if (!existsSync(abs)) continue;
    consider(abs); // a deleted file shows only as its directory's change
    for (const entry of readdirSync(abs, { recursive: true, withFileTypes: true })) consider(path.join(entry.parentPath, entry.name));
  }
  for (const file of INPUT_FILES) consider(path.join(root, file));
  return newest;
}

if (!existsSync(path.join(root, 'src'))) process.exit(0);
const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
if (built >= newestInput()) process.exit(0);

process.stderr.write(built ? 'postroom: sources changed since the last build: building\n' : 'postroom: building\n');
// The npm that runs this script (npm ci, npm start), else the one on PATH.
const [command, ...args] = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];
const result = spawnSync(command, [...args, 'run', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
