import { type Db, pushSubscriptions, queryRows, sql } from '@podlive/db';
import type { FastifyBaseLogger } from 'fastify';
import webpush from 'web-push';
import type { PushConfig } from '../../config';
import { uuidArray } from './notifications';
import { isPushService } from './push-subscriptions';

/** What the service worker shows (web/src/service-worker.ts). */
export interface PushMessage {
  title: string;
  body: string;
  /** A path of this site, opened when the notification is clicked. */
  url: string;
}

export interface WebPushOptions {
  db: Db;
  vapid: PushConfig;
  log: FastifyBaseLogger;
  /** Per push service request (default 10 s). */
  timeoutMs?: number;
  /** Requests in flight at once per send (default 16). */
  concurrency?: number;
}

interface Target {
  id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
}

/** How long a push service keeps a message for an offline browser: a live is news for minutes, not weeks. */
const TTL_SEC = 15 * 60;

/**
 * Sends Web Push messages, encrypted (RFC 8291, aes128gcm) and VAPID-signed by the web-push library.
 * The request goes out with fetch rather than web-push's own sender, which speaks https only:
 * that keeps timeouts ours and lets a push service the operator listed on plain http be reached
 * (PUSH_SERVICE_ORIGINS, e.g. a test's). A stored endpoint that is not a push service
 * (isPushService: a row saved before that rule) is skipped, never posted to. Subscriptions the push
 * service says are gone (404, 410) are deleted. Sends run in the background; close() waits for them.
 */
export class WebPush {
  readonly #pending = new Set<Promise<void>>();
  readonly #timeoutMs: number;
  readonly #concurrency: number;

  constructor(private readonly options: WebPushOptions) {
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#concurrency = options.concurrency ?? 16;
  }

  get publicKey(): string {
    return this.options.vapid.publicKey;
  }

  /** Pushes `message` to every subscription of these users, without waiting; never throws. */
  send(userIds: readonly string[], message: PushMessage): void {
    if (userIds.length === 0) return;
    const run = this.#sendAll(userIds, message).catch((err: unknown) => this.options.log.error({ err }, 'web push failed'));
    this.#pending.add(run);
    void run.finally(() => this.#pending.delete(run));
  }

  /** Resolves once every send started so far is done (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  async close(): Promise<void> {
    await this.idle();
  }

  async #sendAll(userIds: readonly string[], message: PushMessage): Promise<void> {
    const targets = await queryRows<Target & Record<string, unknown>>(
      this.options.db,
      sql`select id, endpoint, p256dh, auth from ${pushSubscriptions} where user_id = any(${uuidArray(userIds)}::uuid[])`,
    );
    const payload = JSON.stringify(message);
    const queue = [...targets];
    const worker = async () => {
      for (let target = queue.shift(); target !== undefined; target = queue.shift()) await this.#sendOne(target, payload);
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, queue.length) }, worker));
  }

  async #sendOne(target: Target, payload: string): Promise<void> {
    const { log, vapid } = this.options;
    if (!isPushService(target.endpoint, vapid.extraServiceOrigins)) {
      log.warn({ subscriptionId: target.id }, 'a push subscription names no push service, skipped');
      return;
    }
    let status: number;
    try {
      const details = webpush.generateRequestDetails({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, payload, {
        vapidDetails: { subject: vapid.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey },
        TTL: TTL_SEC,
        urgency: 'high',
        contentEncoding: 'aes128gcm',
      });
      // fetch sets Content-Length itself from the body.
      const headers = Object.fromEntries(Object.entries(details.headers).filter(([name]) => name.toLowerCase() !== 'content-length').map(([name, value]) => [name, String(value)]));
      const response = await fetch(details.endpoint, {
        method: details.method,
        headers,
        body: details.body === null ? null : new Uint8Array(details.body),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = response.status;
      await response.body?.cancel();
    } catch (err) {
      log.warn({ err, subscriptionId: target.id }, 'a web push could not be sent');
      return;
    }
    if (status === 404 || status === 410) {
      // The browser unsubscribed or the subscription expired: it will never work again.
      await this.options.db.delete(pushSubscriptions).where(sql`${pushSubscriptions.id} = ${target.id}`);
      log.info({ subscriptionId: target.id, status }, 'push subscription gone, deleted');
    } else if (status < 200 || status >= 300) {
      log.warn({ subscriptionId: target.id, status }, 'the push service refused a web push');
    }
  }
}
