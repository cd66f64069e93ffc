import type { Db } from '@podlive/db';
import type { LiveSession } from '@podlive/shared/live';
import type { FastifyBaseLogger } from 'fastify';
import type { LiveEvents } from '../../ws/events';
import { publishStored, storeForUsers } from './notifications';
import type { WebPush } from './web-push';

/**
 * What followers get when a host goes live, besides the lifecycle's live_started event: a stored
 * notification each (one insert), the `notification` /ws event with their unread count, and a
 * Web Push to each of their browsers. Runs in the background so Go Live never waits for it;
 * close() waits for what is under way.
 */
export class Notifier {
  readonly #pending = new Set<Promise<void>>();

  constructor(private readonly deps: { db: Db; events: LiveEvents; push: WebPush; log: FastifyBaseLogger }) {}

  liveStarted(session: LiveSession, followerIds: readonly string[]): void {
    if (followerIds.length === 0) return;
    const run = this.#liveStarted(session, followerIds).catch((err: unknown) =>
      this.deps.log.error({ err, sessionId: session.id }, 'notifying followers of live_started failed'),
    );
    this.#pending.add(run);
    void run.finally(() => this.#pending.delete(run));
  }

  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    await this.deps.push.idle();
  }

  async #liveStarted(session: LiveSession, followerIds: readonly string[]): Promise<void> {
    const { db, events, push, log } = this.deps;
    const { host } = session;
    // Pushed first: the stored rows and /ws events don't have to wait for a slow push service.
    push.send(followerIds, { title: `${host.displayName} is live`, body: session.title, url: `/live/${session.id}` });
    const rows = await storeForUsers(db, followerIds, 'live_started', {
      sessionId: session.id,
      title: session.title,
      host: { id: host.id, handle: host.handle, displayName: host.displayName },
    });
    await publishStored(db, events, log, rows);
  }
}
