import { createHmac, timingSafeEqual } from 'node:crypto';

/** HMAC-SHA256 (base64url) over the key and the expiry, for local signed URLs. */
export function signKey(secret: string, key: string, expiresAt: number): string {
  return createHmac('sha256', secret).update(`${key}\n${expiresAt}`).digest('base64url');
}

export type SignatureCheck = 'valid' | 'invalid' | 'expired';

/**
 * Checks a signature made by signKey. `exp` is the raw query value (unix seconds).
 * The signature is checked before the expiry, so a forged link never learns whether it expired.
 */
export function checkSignature(secret: string, key: string, exp: string | undefined, sig: string | undefined, nowSec = Date.now() / 1000): SignatureCheck {
  if (exp === undefined || sig === undefined || !/^\d{1,12}$/.test(exp)) return 'invalid';
  const expected = Buffer.from(signKey(secret, key, Number(exp)));
  const given = Buffer.from(sig);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return Number(exp) < nowSec ? 'expired' : 'valid';
}
