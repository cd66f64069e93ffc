import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // PGlite boots a WebAssembly PostgreSQL per database (about a second); migrations add a little.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
