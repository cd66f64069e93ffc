import { defineConfig } from 'drizzle-kit';

/** `pnpm --filter @podlive/db generate --name <what changed>` writes the next SQL migration. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/schema/index.ts',
  out: './migrations',
  strict: true,
  verbose: true,
});
