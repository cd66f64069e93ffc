import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '@podlive/server';
import { loadConfig } from '@podlive/server/config';
import { databaseHandle } from '@podlive/server/db';
import { eq, users } from '@podlive/db';
import { createTestDb, type TestDb } from '@podlive/db/testing';
import { latestCode } from '@podlive/shared/testing/outbox';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { freeRtcPortBase, freeTcpPort } from '@podlive/shared/testing/ports';
import { MediaNode } from '@podlive/sfu';
import { loadConfig as loadSfuConfig } from '@podlive/sfu/config';
import { build as buildRecorder } from '@podlive/recorder/app';
import { loadConfig as loadRecorderConfig } from '@podlive/recorder/config';
import { Recorder } from '@podlive/recorder/Recorder';
import type { Page } from 'playwright-core';
import { startWebServer, type WebServer } from './web-server';
import { behindProxyEnv } from '../behind-proxy.js';

type App = ReturnType<typeof build>;

/** The real control plane (on a fresh PostgreSQL database) in front of the built web app. */
export interface Stack {
  /** The one origin the browser uses: the control plane, which proxies pages to the web app. */
  url: string;
  /** DATA_DIR of the control plane (mail lands in its outbox/, objects in storage/). */
  dataDir: string;
  /** The 6-digit code of the newest mail in the outbox sent to `to`. */
  latestCode(to: string): Promise<string>;
  /** The in-process SFU node the control plane places lives on (`media: true`). */
  node: MediaNode | undefined;
  /** The recorder (`recorder` option). */
  recorder: Recorder | undefined;
  /** Every control plane replica's URL (the first is `url`, the one pages use). */
  replicaUrls: string[];
  /** Makes the user staff, as an operator does in the database (there is no API for it). */
  makeAdmin(userId: string): Promise<void>;
  stop(): Promise<void>;
}

export interface StackOptions {
  /** Also run a real SFU node (one worker) in this process, with the control plane's public key. */
  media?: boolean;
  /** More environment for the control plane (e.g. STAGE_INVITE_TTL_MS). */
  serverEnv?: Record<string, string>;
  /** More environment for the SFU node (e.g. RTC_LISTEN_IP, an address a namespaced browser reaches). */
  nodeEnv?: Record<string, string>;
  /** Control plane replicas on the same database (default 1); pages use the first. */
  replicas?: number;
  /**
   * Also run the recorder in this process (needs `media`), with the control plane's storage (its
   * DATA_DIR, or the S3 settings in `serverEnv`) and this environment added (e.g. chunk length).
   */
  recorder?: Record<string, string>;
  /** Told of every request the (first) control plane answered: what the browser and the web app asked of it. */
  onServed?: (served: ServedRequest) => void;
}

export interface ServedRequest {
  method: string;
  /** The path, without the query. */
  path: string;
  status: number;
  /** The signed-in caller the control plane saw, or null. */
  callerId: string | null;
}

/**
 * The media token key pair of the control plane (unless `serverEnv` names another key): the
 * server gets the private key, the test's SFU node and recorder only the public one; tests sign
 * report tokens with the private key to act as the recorder.
 */
export const MEDIA_TOKEN_KEYS = testKeyPair();
const SFU_NODE_ID = 'local';

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const dataDir = await mkdtemp(join(tmpdir(), 'podlive-web-e2e-'));
  const [webPort, apiPort] = await Promise.all([freeTcpPort(), freeTcpPort()]);
  let db: TestDb | undefined;
  let app: App | undefined;
  const others: App[] = [];
  let web: WebServer | undefined;
  let node: MediaNode | undefined;
  let recorderApp: Awaited<ReturnType<typeof buildRecorder>> | undefined;
  let recorder: Recorder | undefined;
  const stop = async () => {
    await web?.stop();
    await recorderApp?.close();
    await app?.close();
    for (const other of others) await other.close();
    await node?.close();
    await db?.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    db = await createTestDb('postgres');
    const env: Record<string, string> = { DATA_DIR: dataDir, WEB_URL: `http://127.0.0.1:${webPort}`, PUBLIC_URL: `http://127.0.0.1:${apiPort}`, MEDIA_TOKEN_PRIVATE_KEY: MEDIA_TOKEN_KEYS.privatePem };
    if (options.media) {
      const rtcPortBase = String(await freeRtcPortBase(1, options.nodeEnv?.RTC_LISTEN_IP));
      // The node asks the control plane (listening on apiPort below) whether a guest grant still stands.
      node = await MediaNode.start(loadSfuConfig({ SFU_PORT: '0', SFU_WORKERS: '1', RTC_PORT_BASE: rtcPortBase, MEDIA_TOKEN_PUBLIC_KEY: MEDIA_TOKEN_KEYS.publicPem, SFU_NODE_ID, SERVER_URL: `http://127.0.0.1:${apiPort}`, ...options.nodeEnv }));
      Object.assign(env, { SFU_URL: node.controlUrl, SFU_NODE_ID, SFU_PUBLIC_WS_URL: node.publicWsUrl });
    }
    Object.assign(env, options.serverEnv);
    if (options.recorder) {
      const recorderPort = await freeTcpPort();
      // The recorder gets the public key only (it signs nothing: its tokens come in the commands).
      const { MEDIA_TOKEN_PRIVATE_KEY: _private, ...recorderEnv } = env;
      const recorderConfig = loadRecorderConfig({ ...recorderEnv, MEDIA_TOKEN_PUBLIC_KEY: MEDIA_TOKEN_KEYS.publicPem, ...options.recorder, RECORDER_PORT: String(recorderPort), SERVER_URL: `http://127.0.0.1:${apiPort}` });
      recorder = await Recorder.create(recorderConfig);
      recorderApp = await buildRecorder(recorderConfig, recorder);
      await recorderApp.listen({ host: '127.0.0.1', port: recorderPort });
      env.RECORDER_URL = `http://127.0.0.1:${recorderPort}`;
    }
    const config = loadConfig(env);
    app = build(config, { db: databaseHandle(db) });
    const { onServed } = options;
    if (onServed !== undefined) {
      app.addHook('onResponse', async (request, reply) => {
        onServed({ method: request.method, path: request.url.split('?', 1)[0] ?? '', status: reply.statusCode, callerId: request.caller?.id ?? null });
      });
    }
    await app.listen({ host: '127.0.0.1', port: apiPort });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('the control plane has no TCP address');
    const url = `http://127.0.0.1:${address.port}`;
    const replicaUrls = [url];
    for (let i = 1; i < (options.replicas ?? 1); i++) {
      const other = build(config, { db: databaseHandle(db) });
      others.push(other);
      replicaUrls.push(await other.listen({ host: '127.0.0.1', port: 0 }));
    }
    web = await startWebServer({ port: webPort, env: behindProxyEnv(url) });
    const testDb = db;
    const makeAdmin = async (userId: string) => {
      await testDb.db.update(users).set({ isAdmin: true }).where(eq(users.id, userId));
    };
    return { url, replicaUrls, dataDir, latestCode: (to) => latestCode(join(dataDir, 'outbox'), to), node, recorder, makeAdmin, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/** The password every e2e account gets. */
export const PASSWORD = 'correct horse battery staple';

/**
 * A new account signed in on `page`: registered and verified through the API (faster than the
 * pages), then logged in through /login, landing on `path`. Resolves with the user's id.
 */
export async function signIn(stack: Pick<Stack, 'url' | 'latestCode'>, page: Page, o: { handle: string; displayName: string; path: string }): Promise<string> {
  const email = `${o.handle}@example.com`;
  const post = (path: string, body: unknown) =>
    fetch(`${stack.url}/api/auth/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const registered = await post('register', { email, password: PASSWORD, handle: o.handle, displayName: o.displayName });
  if (registered.status !== 202) throw new Error(`registering ${o.handle}: HTTP ${registered.status}`);
  const verified = await post('verify-otp', { email, code: await stack.latestCode(email), purpose: 'verify_email' });
  if (!verified.ok) throw new Error(`verifying ${o.handle}: HTTP ${verified.status}`);
  await page.goto(`/login?redirectTo=${encodeURIComponent(o.path)}`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`**${o.path}`);
  return ((await (await fetch(`${stack.url}/api/users/${o.handle}`)).json()) as { id: string }).id;
}
