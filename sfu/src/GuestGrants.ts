import { MediaTokenError, verifyMediaToken, type MediaClaims, type TokenVerifyingKey } from '@podlive/shared/tokens';
import { MediaRequestError } from './errors';
import type { GrantCheck } from './grant-check';

/** Used grant ids and revocations are remembered this long: longer than any media token lives. */
const REMEMBER_MS = 10 * 60_000;

const userKey = (sid: string, sub: string) => `${sid}\n${sub}`;

/**
 * Guest grants on this node: a viewer called onto the stage presents a token minted by the
 * control plane (role guest, same user and session, this node, a jti = the invite's id). A grant
 * takes effect only when
 * - its jti was never used here (each is accepted once),
 * - the user was not taken off that stage here after the grant was signed (`revoke`: the control
 *   plane's removal reaches the node before or after the guest redeems; either way they end up
 *   a viewer), and
 * - the control plane confirms the invite is still accepted (`check`), and no revocation arrived
 *   while it was asked.
 */
export class GuestGrants {
  /** jti → when it can be forgotten (ms since epoch). */
  readonly #used = new Map<string, number>();
  /** session + user → when they were last taken off the stage here (this node's clock, ms). */
  readonly #revoked = new Map<string, number>();

  constructor(
    readonly publicKey: TokenVerifyingKey,
    readonly nodeId: string,
    /** The control plane's confirmation; without it (tests of the node alone) the node's own checks decide. */
    readonly check?: GrantCheck,
  ) {}

  /** The user left the stage of `sid` or was removed from it: their unredeemed grants stop working. */
  revoke(sid: string, sub: string): void {
    this.#forgetExpired();
    this.#revoked.set(userKey(sid, sub), Date.now());
  }

  /** Checks `token` for the peer holding `current` claims; returns the guest claims or throws 403/401 (503: ask again). */
  async redeem(token: string, current: MediaClaims): Promise<MediaClaims> {
    const started = Date.now();
    let claims: MediaClaims;
    try {
      claims = await verifyMediaToken(this.publicKey, token, this.nodeId);
    } catch (err) {
      if (err instanceof MediaTokenError) throw MediaRequestError.forbidden(`guest grant refused: ${err.message}`);
      throw err;
    }
    if (claims.role !== 'guest') throw MediaRequestError.forbidden('guest grant refused: not a guest grant');
    if (claims.sid !== current.sid) throw MediaRequestError.forbidden('guest grant refused: another session');
    if (claims.sub !== current.sub) throw MediaRequestError.forbidden('guest grant refused: another user');
    const jti = claims.jti;
    if (!jti) throw MediaRequestError.forbidden('guest grant refused: no grant id');
    this.#forgetExpired();
    if (this.#used.has(jti)) throw MediaRequestError.forbidden('guest grant refused: already used');
    // `iat` has whole seconds: a grant signed in the same second as the revocation is left to the
    // control plane's check (which knows the order), an earlier one is refused here.
    const revoked = this.#revoked.get(userKey(claims.sid, claims.sub));
    if (revoked !== undefined && ((claims.iat ?? 0) + 1) * 1000 <= revoked) throw MediaRequestError.forbidden('guest grant refused: taken off the stage');
    // Reserved before asking, so the same grant sent twice at once is accepted at most once.
    this.#used.set(jti, Date.now() + REMEMBER_MS);
    if (this.check) {
      try {
        await this.check(token);
      } catch (err) {
        // Not refused, only not answered: the same grant may be tried again.
        if (!(err instanceof MediaRequestError) || err.code !== 'forbidden') this.#used.delete(jti);
        throw err;
      }
    }
    // A removal that reached this node while the control plane was asked wins over its (earlier) yes.
    if ((this.#revoked.get(userKey(claims.sid, claims.sub)) ?? 0) >= started) throw MediaRequestError.forbidden('guest grant refused: taken off the stage');
    return claims;
  }

  #forgetExpired(): void {
    const now = Date.now();
    for (const [jti, until] of this.#used) if (until < now) this.#used.delete(jti);
    for (const [key, at] of this.#revoked) if (at + REMEMBER_MS < now) this.#revoked.delete(key);
  }
}
