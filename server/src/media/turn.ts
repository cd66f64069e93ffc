import { createHmac } from 'node:crypto';
import type { IceServer } from '@podlive/shared/live';

/** TURN_URLS and TURN_SECRET: the TURN servers pages may relay through, and the secret coturn shares (static-auth-secret). */
export interface TurnConfig {
  readonly urls: readonly string[];
  readonly secret: string;
}

/**
 * The TURN servers for a page, with credentials of the TURN REST API scheme coturn checks with
 * `use-auth-secret`: the username is `<expiry, unix seconds>:<who>`, the password the base64 of
 * HMAC-SHA1(secret, username). coturn refuses an allocation once the expiry has passed, so the
 * credential lives as long as the media token it comes with (`ttlSec`); a page that needs a new
 * transport later asks for a new token, and new credentials with it. No TURN configured: none.
 */
export function iceServersFor(turn: TurnConfig | null, who: string, ttlSec: number, now = Date.now()): IceServer[] {
  if (turn === null) return [];
  // coturn reads the expiry up to the first ':' and the rest is a name; keep the name free of it.
  const username = `${Math.floor(now / 1000) + ttlSec}:${who.replaceAll(':', '-')}`;
  const credential = createHmac('sha1', turn.secret).update(username).digest('base64');
  return [{ urls: [...turn.urls], username, credential }];
}
