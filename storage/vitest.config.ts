import { defineConfig } from 'vitest/config';

export default defineConfig({
  // s3rver starts in a second or so; the multipart and 1,005-object tests take several on two cores.
  test: { include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 30_000 },
});
