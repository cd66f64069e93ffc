import { MEDIA_TOKEN_TTL_SEC } from '@podlive/shared/tokens';

/**
 * How long a node refuses a session after its live ended: longer than any media token minted
 * before the end can live (MEDIA_TOKEN_TTL_SEC), with a minute for clocks that disagree.
 */
export const ENDED_HOLD_MS = (MEDIA_TOKEN_TTL_SEC + 60) * 1000;

/**
 * Sessions whose live the control plane ended on this node: no room is made for them again while
 * a token minted before the end could still be presented. (In a fleet the registry holds the same
 * fact for every node; this is the node's own memory of it.)
 */
export class EndedSessions {
  /** sid → until when it is refused (ms since epoch). */
  readonly #until = new Map<string, number>();

  constructor(readonly holdMs = ENDED_HOLD_MS) {}

  add(sid: string): void {
    this.#forgetExpired();
    this.#until.set(sid, Date.now() + this.holdMs);
  }

  has(sid: string): boolean {
    const until = this.#until.get(sid);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.#until.delete(sid);
    return false;
  }

  #forgetExpired(): void {
    const now = Date.now();
    for (const [sid, until] of this.#until) if (until <= now) this.#until.delete(sid);
  }
}
