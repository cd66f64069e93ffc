import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A PGlite database boots a WebAssembly PostgreSQL (a few seconds for the first, with its
    // extensions, on a busy 2-core machine); PostgreSQL test databases are created per file.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
