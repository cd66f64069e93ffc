import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { freeTcpPort } from '@podlive/shared/testing/ports';

const buildEntry = fileURLToPath(new URL('../build/index.js', import.meta.url));

export interface WebServer {
  url: string;
  stop(): Promise<void>;
}

export interface WebServerOptions {
  /** Port to listen on (default: a free one), e.g. one the control plane already proxies to. */
  port?: number;
  /** Extra environment, e.g. API_URL and ORIGIN when the app sits behind the control plane. */
  env?: Record<string, string>;
}

/** Runs the built web app (adapter-node) as its own process, as `npm start` does. */
export async function startWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  if (!existsSync(buildEntry)) throw new Error(`web app not built (${buildEntry}): run "npm run setup" or "pnpm --filter @podlive/web build"`);
  const port = options.port ?? (await freeTcpPort());
  const child: ChildProcess = spawn(process.execPath, [buildEntry], {
    env: { ...process.env, ...options.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // adapter-node prints "Listening on ..." once the socket is bound.
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`web server exited early (code ${code})`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Listening on')) resolve();
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
