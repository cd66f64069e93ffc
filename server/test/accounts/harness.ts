import { createTestDb, type TestDb } from '@podlive/db/testing';
import { randomHandle } from '@podlive/shared/testing/handles';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { build } from '../../src/app';
import { InProcessBus } from '../../src/bus';
import { DEFAULT_RATE_LIMITS, type Config, type RateLimitConfig } from '../../src/config';
import { databaseHandle } from '../../src/db';
import { OutboxMailer, type MailMessage, type SentMail } from '../../src/mail';
import { LocalStorage } from '@podlive/storage';
import { captureLogger, type LogLine, tempDir, testConfig } from '../helpers';
import type { Logger } from '@podlive/shared/logger';

/** The real OutboxMailer (files in a temp dir), also keeping what it sent for the test to read. */
export class CapturingMailer extends OutboxMailer {
  readonly sent: MailMessage[] = [];
  override async send(message: MailMessage): Promise<SentMail> {
    const sent = await super.send(message);
    this.sent.push(message);
    return sent;
  }
  /** The last code mailed to `to`. */
  lastCode(to: string): string {
    const mail = this.sent.filter((m) => m.to === to).at(-1);
    const code = mail === undefined ? undefined : /\b(\d{6})\b/.exec(mail.text)?.[1];
    if (code === undefined) throw new Error(`no code was mailed to ${to}`);
    return code;
  }
}

/** Limits no test reaches, except those that say otherwise. */
export const generousLimits: RateLimitConfig = {
  namespace: DEFAULT_RATE_LIMITS.namespace,
  rules: Object.fromEntries(Object.keys(DEFAULT_RATE_LIMITS.rules).map((name) => [name, { max: 10_000, windowSec: 60 }])) as RateLimitConfig['rules'],
};

export interface Harness {
  app: FastifyInstance;
  testDb: TestDb;
  mailer: CapturingMailer;
  config: Config;
  /** Every log line the app wrote (JSON, parsed). */
  logs: LogLine[];
  close(): Promise<void>;
}

/** Local storage and a capturing mail outbox in a fresh temporary directory: every test app's files. */
export async function localFiles(config: Pick<Config, 'publicUrl'>, logger: Logger): Promise<{ storage: LocalStorage; mailer: CapturingMailer }> {
  const dir = await tempDir();
  return {
    storage: new LocalStorage({ dir: join(dir, 'storage'), publicUrl: config.publicUrl, urlSecret: 'x'.repeat(32) }),
    mailer: new CapturingMailer({ dir: join(dir, 'outbox'), from: 'PodLive <no-reply@localhost>', logger }),
  };
}

/**
 * The app on its own real PostgreSQL database, with the cheapest argon2 cost (tests only).
 * `beforeReady` sees the app after build() and before its plugins load (e.g. to add an onRoute hook).
 */
export async function startHarness(overrides: Partial<Config> = {}, env: Record<string, string> = {}, beforeReady?: (app: FastifyInstance) => void): Promise<Harness> {
  const base = await testConfig(env);
  const config: Config = { ...base, passwordHash: { memoryCost: 1024, timeCost: 1, parallelism: 1 }, rateLimits: generousLimits, ...overrides };
  const testDb = await createTestDb('postgres');
  const { logger, lines } = captureLogger();
  const { mailer, storage } = await localFiles(config, logger);
  const bus = new InProcessBus({ logger });
  const app = build(config, { logger, db: databaseHandle(testDb), bus, mailer, storage });
  beforeReady?.(app);
  await app.ready();
  return {
    app, testDb, mailer, config, logs: lines,
    async close() {
      await app.close();
      await bus.close();
      await testDb.close();
    },
  };
}

export const unique = () => randomBytes(4).toString('hex');
export const PASSWORD = 'correct horse battery staple';

export interface Account {
  id: string;
  email: string;
  handle: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function post(app: FastifyInstance, url: string, payload: object, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url, payload, headers });
}

/**
 * Registers and signs in a fresh user, its email verified with the code from the app's mailer
 * (a CapturingMailer, as every test app has) unless `verified: false`.
 */
export async function signUp(app: FastifyInstance, fields: { handle?: string; displayName?: string; verified?: boolean } = {}): Promise<Account> {
  const id = unique();
  const email = `user_${id}@example.test`;
  const handle = fields.handle ?? randomHandle('user');
  const registered = await post(app, '/api/auth/register', { email, password: PASSWORD, handle, ...(fields.displayName ? { displayName: fields.displayName } : {}) });
  if (registered.statusCode !== 202) throw new Error(`register failed: ${registered.body}`);
  if (fields.verified !== false) {
    if (!(app.mailer instanceof CapturingMailer)) throw new Error('signUp verifies through a CapturingMailer (see localFiles)');
    const verified = await post(app, '/api/auth/verify-otp', { email, code: app.mailer.lastCode(email), purpose: 'verify_email' });
    if (verified.statusCode !== 200) throw new Error(`verify failed: ${verified.body}`);
  }
  const login = await post(app, '/api/auth/login', { email, password: PASSWORD });
  if (login.statusCode !== 200) throw new Error(`login failed: ${login.body}`);
  const body = login.json();
  return { id: body.user.id, email, handle, password: PASSWORD, accessToken: body.accessToken, refreshToken: body.refreshToken };
}

/** Row count of a table, to prove a refused request changed nothing. */
export async function countRows(testDb: TestDb, table: string): Promise<number> {
  const { queryRows, sql } = await import('@podlive/db');
  const rows = await queryRows<{ n: number }>(testDb.db, sql.raw(`select count(*)::int as n from "${table}"`));
  return rows[0]?.n ?? -1;
}
