import type { IssuedRefreshToken } from './refresh-tokens';

export interface Rotated {
  accessToken: string;
  refresh: IssuedRefreshToken;
}

/** How long a rotation's result is handed to a later caller presenting the same refresh token. */
const MEMORY_MS = 15_000;

/**
 * Refresh tokens are single use, but one browser often presents the same one several times at
 * once: two tabs renewing after a pause, or a page load (the web app's server refreshing through
 * POST /api/auth/refresh) beside the page's own POST /api/auth/renew. Spending it twice would read
 * as theft and revoke the whole sign-in session. So presentations of one token while its rotation
 * runs share that rotation; and a browser's renewal (`remember`) is handed out again for 15 s,
 * since its tabs send the old cookie until the new one arrives. A token presented in the body
 * after its rotation finished (an API client replaying it) is judged afresh: reuse. Kept in this
 * process only: with several replicas behind a balancer without affinity, two of one browser's
 * requests can still race (it needs both within the same moment after the access token expired).
 */
export class Rotations {
  readonly #pending = new Map<string, Promise<Rotated>>();

  constructor(private readonly rotate: (token: string) => Promise<Rotated>) {}

  of(token: string, o: { remember: boolean }): Promise<Rotated> {
    let pending = this.#pending.get(token);
    if (pending === undefined) {
      const rotation = this.rotate(token);
      this.#pending.set(token, rotation);
      const forget = () => {
        if (this.#pending.get(token) === rotation) this.#pending.delete(token);
      };
      // A refused token is not remembered: the next try is judged afresh.
      rotation.then(() => (o.remember ? setTimeout(forget, MEMORY_MS).unref() : forget()), forget);
      pending = rotation;
    }
    return pending;
  }
}
