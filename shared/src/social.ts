import { z } from 'zod';
import { opaqueText } from './text';
import type { LiveSession } from './live';

/**
 * Notifications (the menu and Web Push), blocks, reports and discovery: the shapes of their REST
 * routes and /ws events.
 */

/** Stored notification kinds and their payloads. */
export type NotificationPayloads = {
  /** A followed host went live. */
  live_started: { sessionId: string; title: string; host: { id: string; handle: string; displayName: string } };
  /** The host's recording is playable. */
  recording_ready: { recordingId: string; sessionId: string; title: string };
};
export type NotificationKind = keyof NotificationPayloads;

export type AppNotification = {
  [K in NotificationKind]: { id: string; kind: K; payload: NotificationPayloads[K]; createdAt: string; readAt: string | null };
}[NotificationKind];

/** GET /api/notifications (newest first, paginated). */
export interface NotificationsPage {
  items: AppNotification[];
  unread: number;
  nextCursor: string | null;
}

export const notificationsQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

/** POST /api/notifications/read: these, or every one. */
export const notificationsReadBody = z.union([
  z.strictObject({ ids: z.array(z.uuid()).min(1).max(100) }),
  z.strictObject({ all: z.literal(true) }),
]);

export type NotificationWsEvent =
  /** To every connection of the user, as it is stored. */
  | { type: 'notification'; notification: AppNotification; unread: number };

/** POST /api/push/subscriptions: a browser's PushSubscription.toJSON(). */
export const pushSubscriptionBody = z.strictObject({
  endpoint: opaqueText(2000).pipe(z.url({ protocol: /^https?$/ })),
  expirationTime: z.number().nullable().optional(),
  keys: z.strictObject({ p256dh: z.string().min(1).max(200), auth: z.string().min(1).max(100) }),
});
export type PushSubscriptionBody = z.infer<typeof pushSubscriptionBody>;

/** DELETE /api/push/subscriptions: the endpoint of the subscription to drop. */
export const pushUnsubscribeBody = z.strictObject({ endpoint: opaqueText(2000) });

/** GET /api/push/vapid-key: what `applicationServerKey` is (null: Web Push is not configured). */
export interface VapidKey {
  publicKey: string | null;
}

/** POST /api/reports. Retried with the same target, the open report is returned, not a second one. */
export const reportBody = z.strictObject({
  targetKind: z.enum(['user', 'session', 'chat_message']),
  targetId: z.uuid(),
  reason: z
    .string()
    .transform((s) => s.normalize('NFC').trim())
    .pipe(
      z
        .string()
        .min(1, 'Say what is wrong')
        .max(2000, 'At most 2000 characters')
        // Line breaks and tabs are fine in a reason; other control characters (NUL: Postgres text refuses it) are not.
        .refine((s) => !/(?![\t\n\r])[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(s), 'Contains characters that are not allowed'),
    ),
});
export type ReportBody = z.infer<typeof reportBody>;

export interface Report {
  id: string;
  targetKind: ReportBody['targetKind'];
  targetId: string;
  reason: string;
  status: 'open' | 'reviewing' | 'resolved' | 'dismissed';
  createdAt: string;
  reporter: { id: string; handle: string } | null;
}

/** GET /api/discover: trending lives (viewers now and their growth over the last minutes), by category. */
export interface DiscoverPage {
  trending: (LiveSession & { growth: number })[];
  categories: { category: string; lives: LiveSession[] }[];
}

/** GET /api/search/suggest?q=: a few users and lives as you type. */
export interface SearchSuggestions {
  users: { id: string; handle: string; displayName: string; avatarUrl: string | null }[];
  lives: { id: string; title: string; hostHandle: string }[];
}

/** GET /api/users/me/blocks: the users the caller blocked, newest first. */
export interface BlockedUsers {
  items: { id: string; handle: string; displayName: string; avatarUrl: string | null; blockedAt: string }[];
}
