import type { ChatSendMessage, ChatWsEvent } from '@podlive/shared/chat';
import type { LiveStatus } from '@podlive/shared/live';
import { WS_CLOSE_SESSION_ENDED, type WsClientMessage, type WsEvent, wsClientMessage } from '@podlive/shared/ws';
import { sessionChannel, type UserMessage, userChannel } from './events';
import type { HubClient, WsHub } from './hub';
import type { ViewerCounts } from './viewer-counts';

/** Sessions one connection may follow at once. */
export const MAX_SUBSCRIPTIONS = 20;

/** What a connection uses of its socket (ws' WebSocket; typed here, the server has no @types/ws). */
export interface Socket {
  readonly readyState: number;
  send(data: string): void;
  close(code: number, reason: string): void;
  on(event: 'message', listener: (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}
const OPEN = 1;

/** What a connection asks of chat (features/chat/socket.ts); absent without a database. */
export interface ConnectionChat {
  /** Handles a chat_send; resolves with the refusal for the sending connection, or null (acked through the bus). */
  send(userId: string, message: ChatSendMessage): Promise<Extract<ChatWsEvent, { type: 'chat_refused' }> | null>;
  /** The users `userId` blocked: their chat is not delivered to that user's connections. */
  blockedIds(userId: string): Promise<ReadonlySet<string>>;
}

export interface ConnectionDeps {
  hub: WsHub;
  counts: ViewerCounts;
  /** The signed-in user, null for an anonymous connection. */
  userId: string | null;
  /** The sign-in session (access token `sid`) it was opened with; it closes when that session ends. */
  authSessionId: string | null;
  /** Who this connection counts as when it watches (`user:<id>`, or `address:<ip>` when anonymous): see ViewerCounts. */
  viewer: string;
  /** A session's status, null when there is none (without a database: every id is accepted). */
  statusOf?: (sessionId: string) => Promise<LiveStatus | null>;
  logger: { warn(obj: object, msg: string): void };
  chat?: ConnectionChat | undefined;
  /** Each event written to the socket (metrics). */
  delivered?: (event: WsEvent) => void;
}

/**
 * One /ws connection. Messages are handled one at a time, in order (a subscribe finishes before
 * the next message is read); bad input gets an `error` event and the connection stays usable.
 */
export class WsConnection implements HubClient {
  /** Subscribed sessions → counted as a viewer. */
  readonly #sessions = new Map<string, boolean>();
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  /** Authors whose chat this connection's user blocked: filtered here, on delivery, on every replica. */
  #blocked: ReadonlySet<string> = new Set();

  constructor(private readonly socket: Socket, private readonly deps: ConnectionDeps) {
    socket.on('message', (data, isBinary) => {
      this.#enqueue(() => this.#handle(isBinary ? null : Buffer.isBuffer(data) ? data.toString('utf8') : null));
    });
    socket.on('close', () => this.#enqueue(() => this.#close()));
    if (deps.userId !== null) {
      // Joined before loading, so a block made meanwhile is followed by a reload, never lost.
      this.#enqueue(() => deps.hub.join(userChannel(deps.userId as string), this));
      this.#enqueue(() => this.#loadBlocks());
    }
  }

  /**
   * What the hub hands over from this connection's channels. The user channel also carries the
   * internal `blocks_changed` and `auth_sessions_ended` (typed wider than HubClient's WsEvent for
   * that reason): the first reloads the blocks, the second closes a connection of an ended session.
   */
  send(event: UserMessage): void {
    if (event.type === 'blocks_changed') return this.#enqueue(() => this.#loadBlocks());
    if (event.type === 'auth_sessions_ended') {
      const { authSessionId } = this.deps;
      if (authSessionId !== null && event.sessionIds.includes(authSessionId) && this.socket.readyState === OPEN) {
        this.socket.close(WS_CLOSE_SESSION_ENDED, 'session ended');
      }
      return;
    }
    if (event.type === 'chat_message' && this.#blocked.has(event.message.author.id)) return;
    if (this.#closed || this.socket.readyState !== OPEN) return;
    this.socket.send(JSON.stringify(event));
    this.deps.delivered?.(event);
  }

  async #loadBlocks(): Promise<void> {
    const { chat, userId } = this.deps;
    if (chat === undefined || userId === null || this.#closed) return;
    this.#blocked = await chat.blockedIds(userId);
  }

  #enqueue(task: () => Promise<void>): void {
    this.#queue = this.#queue.then(task).catch((err: unknown) => {
      this.deps.logger.warn({ err }, '/ws message failed');
      this.send({ type: 'error', code: 'INTERNAL', message: 'The message could not be handled' });
    });
  }

  async #handle(text: string | null): Promise<void> {
    if (this.#closed) return;
    let json: unknown;
    try {
      if (text === null) throw new TypeError('binary');
      json = JSON.parse(text);
    } catch {
      return this.send({ type: 'error', code: 'BAD_MESSAGE', message: 'Send JSON text messages' });
    }
    const parsed = wsClientMessage.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.send({ type: 'error', code: 'INVALID_MESSAGE', message: `${issue?.path.join('.') || 'message'}: ${issue?.message ?? 'invalid'}` });
    }
    await this.#dispatch(parsed.data);
  }

  async #dispatch(message: WsClientMessage): Promise<void> {
    switch (message.type) {
      case 'ping':
        return this.send({ type: 'pong' });
      case 'subscribe':
        return this.#subscribe(message.sessionId, message.watch);
      case 'unsubscribe':
        return this.#unsubscribe(message.sessionId);
      case 'chat_send':
        return this.#chat(message);
    }
  }

  async #chat(message: ChatSendMessage): Promise<void> {
    const { sessionId, clientId } = message;
    const { chat, userId } = this.deps;
    if (userId === null) return this.send({ type: 'chat_refused', sessionId, clientId, code: 'UNAUTHENTICATED', message: 'Sign in to chat' });
    if (chat === undefined) return this.send({ type: 'chat_refused', sessionId, clientId, code: 'CHAT_CLOSED', message: 'Chat is not available here' });
    const refused = await chat.send(userId, message);
    if (refused !== null) this.send(refused);
  }

  async #subscribe(sessionId: string, watch: boolean): Promise<void> {
    const { hub, counts, statusOf } = this.deps;
    if (!this.#sessions.has(sessionId) && this.#sessions.size >= MAX_SUBSCRIPTIONS) {
      return this.send({ type: 'error', code: 'TOO_MANY_SUBSCRIPTIONS', message: `Follow at most ${MAX_SUBSCRIPTIONS} lives per connection` });
    }
    const status = statusOf === undefined ? 'live' : await statusOf(sessionId);
    if (status === null) return this.send({ type: 'error', code: 'LIVE_NOT_FOUND', message: 'No such live' });
    if (status === 'ended') return this.send({ type: 'live_ended', sessionId });
    if (!this.#sessions.has(sessionId)) await hub.join(sessionChannel(sessionId), this);
    if (this.#closed) return;
    this.#sessions.set(sessionId, watch);
    if (watch) counts.watch(sessionId, this, this.deps.viewer);
    else counts.unwatch(sessionId, this, this.deps.viewer);
    // The current total for this connection alone; later changes come throttled with everyone's.
    this.send({ type: 'viewer_count', sessionId, viewers: await counts.total(sessionId) });
  }

  async #unsubscribe(sessionId: string): Promise<void> {
    if (!this.#sessions.delete(sessionId)) return;
    this.deps.counts.unwatch(sessionId, this, this.deps.viewer);
    await this.deps.hub.leave(sessionChannel(sessionId), this);
  }

  async #close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const sessionId of [...this.#sessions.keys()]) {
      this.deps.counts.unwatch(sessionId, this, this.deps.viewer);
      await this.deps.hub.leave(sessionChannel(sessionId), this);
    }
    this.#sessions.clear();
    if (this.deps.userId !== null) await this.deps.hub.leave(userChannel(this.deps.userId), this);
  }
}
