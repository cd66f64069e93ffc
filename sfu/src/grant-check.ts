import { MediaRequestError } from './errors';

/** How long the node waits for the control plane's answer before refusing for now (503). */
export const GRANT_CHECK_TIMEOUT_MS = 3000;

/** Asks whether a guest grant (the media token) may still take effect; resolves when yes, throws MediaRequestError when not. */
export type GrantCheck = (grant: string) => Promise<void>;

/**
 * The control plane's answer (`POST <serverUrl>/internal/stage/grants/check` with the guest's
 * grant itself as the bearer credential: a node holds no key to sign one of its own, and the
 * control plane answers only about the grant it minted): 204 → the invite is still accepted;
 * any other 4xx → refused (403 to the peer); no answer, or a 5xx → 503, the grant stays unused
 * so the page may try again.
 */
export function controlPlaneGrantCheck(serverUrl: string): GrantCheck {
  const url = new URL('/internal/stage/grants/check', serverUrl).toString();
  return async (grant) => {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${grant}` },
        signal: AbortSignal.timeout(GRANT_CHECK_TIMEOUT_MS),
      });
    } catch (err) {
      throw MediaRequestError.unavailable(`guest grant not checked: the control plane did not answer (${(err as Error).message})`);
    }
    await response.body?.cancel();
    if (response.status === 204) return;
    if (response.status >= 400 && response.status < 500) throw MediaRequestError.forbidden('guest grant refused: no longer invited onto the stage');
    throw MediaRequestError.unavailable(`guest grant not checked: the control plane answered ${response.status}`);
  };
}
