import { MediaTokenError, verifyMediaToken, type MediaClaims } from '@podlive/shared/tokens';
import { MediaRequestError } from './errors';

/**
 * Guest grants on this node: a viewer called onto the stage presents a token minted by the
 * control plane (role guest, same user and session, this node, a jti). Each jti is accepted once;
 * used ids are remembered until the token would have expired anyway.
 */
export class GuestGrants {
  /** jti → when it can be forgotten (ms since epoch). */
  readonly #used = new Map<string, number>();

  constructor(
    readonly secret: string,
    readonly nodeId: string,
  ) {}

  /** Checks `token` for the peer holding `current` claims; returns the guest claims or throws 403/401. */
  async redeem(token: string, current: MediaClaims): Promise<MediaClaims> {
    let claims: MediaClaims;
    try {
      claims = await verifyMediaToken(this.secret, token, this.nodeId);
    } catch (err) {
      if (err instanceof MediaTokenError) throw MediaRequestError.forbidden(`guest grant refused: ${err.message}`);
      throw err;
    }
    if (claims.role !== 'guest') throw MediaRequestError.forbidden('guest grant refused: not a guest grant');
    if (claims.sid !== current.sid) throw MediaRequestError.forbidden('guest grant refused: another session');
    if (claims.sub !== current.sub) throw MediaRequestError.forbidden('guest grant refused: another user');
    if (!claims.jti) throw MediaRequestError.forbidden('guest grant refused: no grant id');
    this.#forgetExpired();
    if (this.#used.has(claims.jti)) throw MediaRequestError.forbidden('guest grant refused: already used');
    // Tokens live MEDIA_TOKEN_TTL at most; keep the id a little longer than any token could.
    this.#used.set(claims.jti, Date.now() + 10 * 60_000);
    return claims;
  }

  #forgetExpired(): void {
    const now = Date.now();
    for (const [jti, until] of this.#used) if (until < now) this.#used.delete(jti);
  }
}
