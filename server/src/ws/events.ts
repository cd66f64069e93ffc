import type { WsEvent } from '@podlive/shared/ws';
import type { Bus } from '../bus';

/** Bus channel of one live: its WsEvents for subscribers, and count nudges between replicas. */
export const sessionChannel = (sessionId: string) => `live:${sessionId}`;
/** Bus channel of one user: the events for all of that user's /ws connections. */
export const userChannel = (userId: string) => `user:${userId}`;

/** Internal message on a session channel: some replica's viewer count changed (never sent to clients). */
export interface CountChanged {
  type: 'count_changed';
}
export type SessionMessage = WsEvent | CountChanged;

/**
 * Internal message on a user channel: the user's blocks changed, so each of their connections
 * reloads whom it filters out of chat (never sent to clients; see WsConnection.send).
 */
export interface BlocksChanged {
  type: 'blocks_changed';
}
/**
 * Internal message on a user channel: these sign-in sessions of the user ended (logout, password
 * reset), so the connections opened with them close (never sent to clients).
 */
export interface AuthSessionsEnded {
  type: 'auth_sessions_ended';
  sessionIds: string[];
}
export type UserMessage = WsEvent | BlocksChanged | AuthSessionsEnded;

/**
 * The one way to send /ws events: through the bus, so the replica holding the connection
 * delivers it (Redis pub/sub in a fleet, in-process on one machine).
 */
export class LiveEvents {
  constructor(private readonly bus: Bus) {}

  /** To every connection subscribed to the session, on every replica. */
  toSession(sessionId: string, event: SessionMessage): Promise<void> {
    return this.bus.publish(sessionChannel(sessionId), event);
  }

  /** To every connection of the user, on every replica. */
  toUser(userId: string, event: WsEvent): Promise<void> {
    return this.bus.publish(userChannel(userId), event);
  }

  /** After `userId` blocked or unblocked someone: their connections on every replica reload their blocks. */
  blocksChanged(userId: string): Promise<void> {
    return this.bus.publish(userChannel(userId), { type: 'blocks_changed' } satisfies BlocksChanged);
  }

  /** After logout or a password reset: the user's /ws connections of these sessions close, on every replica. */
  authSessionsEnded(userId: string, sessionIds: string[]): Promise<void> {
    return this.bus.publish(userChannel(userId), { type: 'auth_sessions_ended', sessionIds } satisfies AuthSessionsEnded);
  }

  /** One event to many users (followers), published in parallel. */
  async toUsers(userIds: readonly string[], event: WsEvent): Promise<void> {
    await Promise.all(userIds.map((id) => this.toUser(id, event)));
  }
}
