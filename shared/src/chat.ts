import { z } from 'zod';
import type { HostSummary } from './live';
import { CONTROL, removeInvisible } from './text';

/**
 * Live chat: what a browser sends on /ws, what every viewer of the session receives, and the REST
 * routes of history and moderation. One place for the rules (length, rates, timeout length).
 */

export const CHAT_MAX_LENGTH = 500;
/** Messages shown on join (GET /api/live/:id/chat), oldest first. */
export const CHAT_HISTORY_LIMIT = 100;
/** "Time out": no chat in the host's lives for this long. */
export const CHAT_TIMEOUT_SEC = 5 * 60;
/** Per user: one message a second on average, bursts of up to this many. */
export const CHAT_RATE = { perSec: 1, burst: 3 } as const;
/** The same text again from the same user within this window is refused as a flood. */
export const CHAT_DUPLICATE_WINDOW_SEC = 30;
/** What a transport may carry before the text rules even look (a bound on work, not the limit). */
const CHAT_TRANSPORT_MAX = 8 * CHAT_MAX_LENGTH;

/**
 * A chat message's text: Unicode-normalised (NFC), invisible characters removed, trimmed; then
 * 1–500 characters (code points, as Postgres counts) with no control characters. Links stay
 * text; pages render it as text, never as HTML.
 */
export const chatText = z
  .string()
  .max(CHAT_TRANSPORT_MAX, `Messages are at most ${CHAT_MAX_LENGTH} characters`)
  .transform(removeInvisible)
  .refine((text) => !CONTROL.test(text), 'Messages cannot contain control characters (line breaks, tabs…)')
  .refine((text) => text.length > 0, 'Write something first')
  .refine((text) => [...text].length <= CHAT_MAX_LENGTH, `Messages are at most ${CHAT_MAX_LENGTH} characters`);

/** A message as everyone sees it. */
export interface ChatMessage {
  id: string;
  sessionId: string;
  author: HostSummary;
  body: string;
  createdAt: string;
}

/** On /ws (with the other client messages in live.ts). `clientId` makes a resend after a lost answer harmless. */
export const chatSendMessage = z.strictObject({
  type: z.literal('chat_send'),
  sessionId: z.uuid(),
  clientId: z.uuid(),
  body: z.string().max(CHAT_TRANSPORT_MAX, `Messages are at most ${CHAT_MAX_LENGTH} characters`),
});
export type ChatSendMessage = z.infer<typeof chatSendMessage>;

/** Why a message was refused (chat_refused.code). */
export type ChatRefusal =
  | 'CHAT_INVALID'
  | 'CHAT_RATE_LIMITED'
  | 'CHAT_DUPLICATE'
  | 'CHAT_TIMED_OUT'
  | 'CHAT_BANNED'
  | 'CHAT_BLOCKED'
  | 'CHAT_CLOSED'
  | 'UNAUTHENTICATED'
  /** Chat needs a verified email (reading it does not). */
  | 'EMAIL_NOT_VERIFIED';

/** A user's standing in a host's chats. */
export interface ChatRestriction {
  kind: 'timeout' | 'ban';
  /** When a timeout ends (ISO); null for a ban. */
  until: string | null;
}

export type ChatWsEvent =
  /** To everyone subscribed to the session (each receiver's blocks filter authors they blocked). */
  | { type: 'chat_message'; sessionId: string; message: ChatMessage }
  /** To the sender's connections: the message with `clientId` was stored (or had been: a resend). */
  | { type: 'chat_ack'; sessionId: string; clientId: string; message: ChatMessage }
  /** To the sender's connections: refused, nothing stored. `retryAfterSec` with CHAT_RATE_LIMITED and CHAT_TIMED_OUT. */
  | { type: 'chat_refused'; sessionId: string; clientId: string; code: ChatRefusal; message: string; retryAfterSec?: number }
  | { type: 'chat_deleted'; sessionId: string; messageId: string }
  /** The pinned message changed (null: unpinned). */
  | { type: 'chat_pinned'; sessionId: string; message: ChatMessage | null }
  /** A user was timed out, banned or unbanned (restriction null) in this host's chats. */
  | { type: 'chat_restricted'; sessionId: string; userId: string; restriction: ChatRestriction | null }
  /** To the user appointed or dismissed as a moderator of the session. */
  | { type: 'chat_moderator'; sessionId: string; userId: string; moderator: boolean };

/** GET /api/live/:id/chat: the last CHAT_HISTORY_LIMIT messages (oldest first), the pin, the caller's standing. */
export interface ChatState {
  messages: ChatMessage[];
  pinned: ChatMessage | null;
  /** Signed in: may pin, delete, time out and ban (the host, or a moderator of this session). */
  canModerate: boolean;
  /** Signed in and restricted in this host's chats. */
  restriction: ChatRestriction | null;
}

/** POST /api/live/:id/chat/timeouts and /bans. */
export const chatRestrictBody = z.strictObject({ userId: z.uuid() });
export type ChatRestrictBody = z.infer<typeof chatRestrictBody>;
