import { readFileSync } from 'node:fs';

/** The loader hook: runs on the loader's thread and writes each module down before it is returned. */
const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOADED_MODULES_FILE, url + '\\n');
  return next(url, context);
}`;

/** Registers the hook, and adds CommonJS modules (required by CommonJS, which the hook does not see) at exit. */
const PRELOAD = `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
register(${JSON.stringify('data:text/javascript,' + encodeURIComponent(HOOKS))});
const { cache } = createRequire('/');
process.on('exit', () => appendFileSync(process.env.LOADED_MODULES_FILE, Object.keys(cache).map((f) => pathToFileURL(f).href + '\\n').join('')));`;

/**
 * Node options that make a process list every module it loads (as URLs) in the file named by the
 * environment variable LOADED_MODULES_FILE.
 */
export const LIST_LOADED_MODULES = ['--import', 'data:text/javascript,' + encodeURIComponent(PRELOAD)];

/** The modules a process run with LIST_LOADED_MODULES wrote to file: npm packages, and files of dist/src. */
export function loadedModules(file: string): { packages: string[]; sources: string[] } {
  const urls = new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean));
  const packages = new Set<string>();
  const sources = new Set<string>();
  for (const url of urls) {
    const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (pkg) packages.add(pkg[1]!);
    else if (url.includes('/dist/src/')) sources.add(url.slice(url.indexOf('/dist/src/') + '/dist/src/'.length));
  }
  return { packages: [...packages].sort(), sources: [...sources].sort() };
}
