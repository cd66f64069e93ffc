import { and, type Db, eq, pushSubscriptions, sql } from '@podlive/db';
import type { PushSubscriptionBody } from '@podlive/shared/social';
import { ApiError } from '../../errors';

/** A user's browsers beyond this many: the oldest subscriptions go. */
export const MAX_SUBSCRIPTIONS_PER_USER = 20;

const bytesOf = (base64url: string): Buffer | null => (/^[\w-]+=*$/.test(base64url) ? Buffer.from(base64url.replace(/=+$/, ''), 'base64url') : null);

/**
 * The browsers' push services (Chrome, Firefox, Safari, Edge). The server posts to whatever
 * endpoint a subscription names: anything else would let a user make it call internal addresses.
 */
const PUSH_SERVICES = ['fcm.googleapis.com', 'android.googleapis.com', 'updates.push.services.mozilla.com', 'web.push.apple.com'];
const PUSH_SERVICE_SUFFIXES = ['.notify.windows.com', '.push.apple.com'];

/**
 * Whether the server may post to `endpoint`, on every deployment alike: a browser push service
 * over https on its default port, or an origin the operator listed (PUSH_SERVICE_ORIGINS, which is
 * how tests reach a local push service). Never credentials in the URL.
 */
export function isPushService(endpoint: string, extraOrigins: readonly string[]): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.username !== '' || url.password !== '') return false;
  if (extraOrigins.includes(url.origin)) return true;
  if (url.protocol !== 'https:' || url.port !== '') return false;
  return PUSH_SERVICES.includes(url.hostname) || PUSH_SERVICE_SUFFIXES.some((suffix) => url.hostname.endsWith(suffix));
}

/**
 * The keys must be what a browser makes (a P-256 point, a 16-byte secret), or no message could
 * be encrypted for it. The endpoint must be a push service (isPushService).
 */
function check(body: PushSubscriptionBody, extraOrigins: readonly string[]): void {
  const p256dh = bytesOf(body.keys.p256dh);
  const auth = bytesOf(body.keys.auth);
  const fields: Record<string, string> = {};
  if (p256dh === null || p256dh.length !== 65 || p256dh[0] !== 4) fields['keys.p256dh'] = 'Must be an uncompressed P-256 public key, base64url';
  if (auth === null || auth.length !== 16) fields['keys.auth'] = 'Must be 16 bytes, base64url';
  if (!isPushService(body.endpoint, extraOrigins)) fields.endpoint = 'Must be a browser push service (https)';
  if (Object.keys(fields).length > 0) throw new ApiError('PUSH_SUBSCRIPTION_INVALID', { fields });
}

/**
 * POST /api/push/subscriptions: one row per endpoint (a browser); subscribing again, or as
 * another user on the same browser, replaces it. Keeps the user's newest MAX_SUBSCRIPTIONS_PER_USER.
 */
export async function saveSubscription(db: Db, userId: string, body: PushSubscriptionBody, extraOrigins: readonly string[]): Promise<void> {
  check(body, extraOrigins);
  const keys = { userId, p256dh: body.keys.p256dh, auth: body.keys.auth };
  await db.transaction(async (tx) => {
    await tx.insert(pushSubscriptions).values({ endpoint: body.endpoint, ...keys }).onConflictDoUpdate({ target: pushSubscriptions.endpoint, set: { ...keys, createdAt: new Date() } });
    await tx.delete(pushSubscriptions).where(
      and(
        eq(pushSubscriptions.userId, userId),
        sql`${pushSubscriptions.id} not in (select id from ${pushSubscriptions} where user_id = ${userId} order by created_at desc limit ${MAX_SUBSCRIPTIONS_PER_USER})`,
      ),
    );
  });
}

/** DELETE /api/push/subscriptions: the caller's subscription of that endpoint (someone else's stays). */
export async function removeSubscription(db: Db, userId: string, endpoint: string): Promise<void> {
  await db.delete(pushSubscriptions).where(and(eq(pushSubscriptions.userId, userId), eq(pushSubscriptions.endpoint, endpoint)));
}
