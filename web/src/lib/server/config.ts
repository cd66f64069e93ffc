import { env } from '$env/dynamic/private';
import { configLoader, envSchemas } from '@podlive/shared/env';
import { z } from 'zod';

/**
 * The web process's own settings, made like every process's config (shared/src/env.ts): one schema,
 * parsed by parseEnv (a ConfigError naming the variable), derived, frozen. adapter-node reads its
 * own variables (PORT, HOST, ORIGIN, the proxy headers, BODY_SIZE_LIMIT).
 */
const schema = z.object({
  /** Where this process reaches the control plane's API (default `npm start`'s server). */
  API_URL: envSchemas.url.default('http://127.0.0.1:3000'),
});

const load = configLoader(schema, (parsed) => ({ apiUrl: parsed.API_URL.replace(/\/+$/, '') }));

let config: ReturnType<typeof load> | undefined;

/** Parsed on first use: SvelteKit hands the runtime environment to the app once it starts serving. */
export function webConfig(): ReturnType<typeof load> {
  config ??= load(env);
  return config;
}
