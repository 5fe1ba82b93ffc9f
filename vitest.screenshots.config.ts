import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/** `npm run screenshots`: captures every dashboard page into docs/screenshots/ (not part of npm test). */
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    include: ['test/screenshots/*.screens.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
