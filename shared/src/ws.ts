import { z } from 'zod';
import { chatSendMessage, type ChatWsEvent } from './chat';
import type { ErrorCode } from './errors';
import type { LiveWsEvent } from './live';
import type { RecordingWsEvent } from './recording';
import type { NotificationWsEvent } from './social';
import type { StageWsEvent } from './stage';

/**
 * The app WebSocket (/ws) contract: what a browser sends and every event the server pushes. Each
 * feature declares its own events beside its API (live, stage, chat, recording, social) and this
 * module joins them, so the features never import each other for it.
 */

/** /ws close code when the connection's sign-in session ended (logout, password reset). */
export const WS_CLOSE_SESSION_ENDED = 4401;

/** Messages a browser sends on /ws. `watch: true` counts the connection as a viewer of the session. */
export const wsClientMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('subscribe'), sessionId: z.uuid(), watch: z.boolean().default(false) }),
  z.strictObject({ type: z.literal('unsubscribe'), sessionId: z.uuid() }),
  z.strictObject({ type: z.literal('ping') }),
  chatSendMessage,
]);
export type WsClientMessage = z.infer<typeof wsClientMessage>;

/** Codes of a /ws `error` event: the registry's, and the socket's own for messages it cannot take. */
export type WsErrorCode = ErrorCode | 'BAD_MESSAGE' | 'INVALID_MESSAGE' | 'TOO_MANY_SUBSCRIPTIONS';

/** Events the server pushes on /ws. */
export type WsEvent =
  | { type: 'pong' }
  | { type: 'error'; code: WsErrorCode; message: string }
  | LiveWsEvent
  | StageWsEvent
  | RecordingWsEvent
  | ChatWsEvent
  | NotificationWsEvent;
