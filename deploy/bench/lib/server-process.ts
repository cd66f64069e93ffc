/**
 * The control plane as its own process (so the load generator does not share its event loop or
 * its memory): a fresh PostgreSQL test database, a media node with one worker, the server app
 * listening on 127.0.0.1 with cheap password hashing and limits no bench reaches.
 * Parent ↔ child over IPC: 'ready' {url, outbox}; 'mem' → {rss}; 'stop'.
 */
import { fork } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ToChild = { type: 'mem' } | { type: 'cpu' } | { type: 'stop' } | { type: 'profile'; to: string | null };
export type FromChild = { type: 'ready'; url: string; outbox: string } | { type: 'mem'; rss: number } | { type: 'profiled' } | { type: 'cpu'; micros: number } | { type: 'error'; message: string };

export interface ServerProcess {
  url: string;
  /** Where the server's mails (verification codes) are written. */
  outbox: string;
  pid: number;
  /** Resident memory of the server process, bytes. */
  rss(): Promise<number>;
  /** CPU time the server process has used so far (user + system), ms. */
  cpuMs(): Promise<number>;
  /**
   * Starts V8's CPU profiler in the server process (`to`: where its .cpuprofile goes, written on
   * the next call with null, which stops it), for DevTools or a flame graph.
   */
  profile(to: string | null): Promise<void>;
  stop(): Promise<void>;
}

const SELF = fileURLToPath(import.meta.url);

/**
 * `fleet`: a control plane replica of a fleet instead (no media node of its own): placement over
 * the nodes registered in Redis under `prefix`, on a database several replicas share.
 */
export interface ServerProcessOptions {
  /** `recorderUrl`: lives are recorded (they have a live HLS, where viewers past capacity go); nothing need listen there. */
  fleet?: { redisUrl: string; prefix: string; databaseUrl: string; dataDir: string; privateKeyPem: string; edgeLimit?: number; recorderUrl?: string };
}

export function startServerProcess(options: ServerProcessOptions = {}): Promise<ServerProcess> {
  const fleetEnv = options.fleet === undefined ? {} : { BENCH_SERVER_FLEET: JSON.stringify(options.fleet) };
  const child = fork(SELF, [], { execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_SERVER_CHILD: '1', LOG_LEVEL: 'warn', ...fleetEnv }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ask = <T extends FromChild['type']>(m: ToChild, answer: T) => new Promise<Extract<FromChild, { type: T }>>((res) => {
    const on = (r: FromChild) => {
      if (r.type !== answer) return;
      child.off('message', on);
      res(r as Extract<FromChild, { type: T }>);
    };
    child.on('message', on);
    child.send(m);
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server process exited with ${code}`)));
    child.on('message', (m: FromChild) => {
      if (m.type === 'error') reject(new Error(m.message));
      if (m.type !== 'ready') return;
      resolve({
        url: m.url,
        outbox: m.outbox,
        pid: child.pid ?? 0,
        rss: () => ask({ type: 'mem' }, 'mem').then((r) => r.rss),
        cpuMs: () => ask({ type: 'cpu' }, 'cpu').then((r) => r.micros / 1000),
        profile: (to) => ask({ type: 'profile', to }, 'profiled').then(() => undefined),
        stop: () => new Promise((res) => {
          child.removeAllListeners('exit');
          child.once('exit', () => res());
          child.send({ type: 'stop' } satisfies ToChild);
        }),
      });
    });
  });
}

async function childMain(): Promise<void> {
  const { build } = await import('@podlive/server');
  const { loadConfig, DEFAULT_RATE_LIMITS } = await import('@podlive/server/config');
  const { databaseHandle } = await import('@podlive/server/db');
  const { createTestDb } = await import('@podlive/db/testing');
  const { MediaNode } = await import('@podlive/sfu');
  const { loadConfig: loadSfuConfig } = await import('@podlive/sfu/config');
  const { freeRtcPortBase } = await import('@podlive/shared/testing/ports');
  const { testKeyPair } = await import('@podlive/shared/testing/keys');
  const fleet = process.env.BENCH_SERVER_FLEET === undefined ? undefined : (JSON.parse(process.env.BENCH_SERVER_FLEET) as NonNullable<ServerProcessOptions['fleet']>);
  const keys = testKeyPair();
  const dataDir = fleet?.dataDir ?? (await mkdtemp(join(tmpdir(), 'podlive-bench-server-')));
  const { openDatabase } = await import('@podlive/server/db');
  const db = fleet === undefined ? await createTestDb('postgres') : undefined;
  const node = fleet !== undefined ? undefined : await MediaNode.start(loadSfuConfig({ SFU_PORT: '0', SFU_WORKERS: '1', SFU_NODE_ID: 'local', MEDIA_TOKEN_PUBLIC_KEY: keys.publicPem, SFU_CONNECTS_PER_MINUTE: '0', RTC_PORT_BASE: String(await freeRtcPortBase(1)), DATA_DIR: dataDir }));
  const base = loadConfig(
    fleet === undefined
      ? { DATA_DIR: dataDir, SFU_URL: node!.controlUrl, SFU_NODE_ID: 'local', SFU_PUBLIC_WS_URL: node!.publicWsUrl, MEDIA_TOKEN_PRIVATE_KEY: keys.privatePem, LOG_LEVEL: 'warn' }
      : {
          DATA_DIR: dataDir, DATABASE_URL: fleet.databaseUrl, REDIS_URL: fleet.redisUrl, REDIS_PREFIX: fleet.prefix, SFU_PLACEMENT: 'fleet',
          ...(fleet.edgeLimit === undefined ? {} : { SFU_EDGE_LIMIT: String(fleet.edgeLimit) }), MEDIA_TOKEN_PRIVATE_KEY: fleet.privateKeyPem, LOG_LEVEL: 'warn',
          ...(fleet.recorderUrl === undefined ? {} : { RECORDER_URL: fleet.recorderUrl }),
        },
  );
  const database = db === undefined ? await openDatabase(base) : databaseHandle(db);
  const rules = Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS.rules).map((name) => [name, { max: 1_000_000, windowSec: 60 }]));
  const app = build({ ...base, passwordHash: { memoryCost: 1024, timeCost: 1, parallelism: 1 }, rateLimits: { ...DEFAULT_RATE_LIMITS, rules: rules as typeof DEFAULT_RATE_LIMITS.rules } }, { db: database });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  let profiler: { session: InstanceType<typeof Session>; to: string } | undefined;
  process.on('message', async (m: ToChild) => {
    if (m.type === 'profile') {
      if (m.to !== null) {
        const session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: 100 });
        await session.post('Profiler.start');
        profiler = { session, to: m.to };
      } else if (profiler) {
        const { profile } = await profiler.session.post('Profiler.stop');
        await writeFile(profiler.to, JSON.stringify(profile));
        profiler.session.disconnect();
        profiler = undefined;
      }
      process.send?.({ type: 'profiled' } satisfies FromChild);
    }
    if (m.type === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ type: 'cpu', micros: user + system } satisfies FromChild);
    }
    if (m.type === 'mem') process.send?.({ type: 'mem', rss: process.memoryUsage().rss } satisfies FromChild);
    if (m.type === 'stop') {
      void (async () => {
        await app.close();
        await node?.close();
        if (db === undefined) await database.close();
        else await db.close();
        process.exit(0);
      })();
    }
  });
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${address.port}`, outbox: join(dataDir, 'outbox') } satisfies FromChild);
}

if (process.env.BENCH_SERVER_CHILD === '1' && process.send) {
  childMain().catch((err: unknown) => {
    process.send?.({ type: 'error', message: (err as Error).stack ?? String(err) } satisfies FromChild);
    process.exit(1);
  });
}
