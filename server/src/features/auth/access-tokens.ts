import { LRUCache } from 'lru-cache';
import { importAccessKey, readAccessToken, type AccessClaims } from '@podlive/shared/accounts';

/** Tokens remembered as verified (each ~0.5 KB with its claims): every client's current token. */
const REMEMBERED = 20_000;

/**
 * Verifies access tokens for every /api request and /ws upgrade. A client sends the same token
 * with every call for its 15 minutes, and the HMAC through WebCrypto (importing the key, then a
 * crypto job) was the largest single cost of a request: a burst of 100 stage invites spent ~20 %
 * of the server's CPU in it. So the key is imported once, and a token that verified is remembered
 * (by its exact text, until it expires): the same text carries the same claims. Only valid tokens
 * are remembered; revocation (EndedSessions) is checked on every request, not here.
 */
export class AccessTokens {
  readonly #key: ReturnType<typeof importAccessKey>;
  readonly #verified = new LRUCache<string, AccessClaims>({ max: REMEMBERED });

  constructor(secret: string) {
    this.#key = importAccessKey(secret);
  }

  /** The claims of a valid access token; null for a forged, expired or malformed one. */
  async verify(token: string): Promise<AccessClaims | null> {
    const known = this.#verified.get(token);
    if (known !== undefined) return known;
    const read = await readAccessToken(await this.#key, token);
    if (read === null) return null;
    const ttl = read.expiresAt - Date.now();
    if (ttl > 0) this.#verified.set(token, read.claims, { ttl });
    return read.claims;
  }
}
