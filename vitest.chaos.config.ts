import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/**
 * The chaos suite (`npm run test:chaos`): crashes, outages, several instances and hostile input
 * against the real compiled app. One file at a time (they load the machine), generous timeouts.
 */
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    include: ['test/chaos/**/*.chaos.spec.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    reporters: ['default'],
  },
});
