import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A PGlite database boots a WebAssembly PostgreSQL (a few seconds for the first, with its
    // extensions, on a busy 2-core machine); PostgreSQL test databases are created per file.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      { extends: true, test: { name: 'server', include: ['test/**/*.test.ts'], exclude: ['test/**/*.load.test.ts'] } },
      // Load tests (the chat fan-out saturates both cores for a minute) run after the rest, alone:
      // beside them, other tests' waits for /ws events time out.
      { extends: true, test: { name: 'load', include: ['test/**/*.load.test.ts'], sequence: { groupOrder: 1 } } },
    ],
  },
});
