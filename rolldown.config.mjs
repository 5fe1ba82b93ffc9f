/**
 * The `postroom` command as CommonJS files, bundled from tsc's output (dist/src/cli/main.js):
 * Node starts a CommonJS file with commander inside it 15-20 ms sooner than the same code as
 * ES modules (bench/RESULTS.md), and a queue command is little more than Node's own start-up.
 * What a command loads lazily (sendmail) stays a separate chunk, loaded by
 * that command only. The bundle lives beside main.js, so that it finds the installation
 * directory as the service does (src/config/config-file.ts, INSTALL_DIR).
 */
import { defineConfig } from 'rolldown';

export default defineConfig({
  input: 'dist/src/cli/main.js',
  platform: 'node',
  output: {
    format: 'cjs',
    dir: 'dist/src/cli',
    entryFileNames: 'postroom.cjs',
    chunkFileNames: 'postroom-[name].cjs',
    // node:http and node:https by require(): an import() from CommonJS would start the ES module loader.
    dynamicImportInCjs: false,
  },
});
