import type { LoginResponse } from '@podlive/shared/accounts';
import type { LiveSession, StartLiveResponse } from '@podlive/shared/live';

/** A control plane call that failed: the method and path, the HTTP status and the API's error code. */
export class ControlApiError extends Error {
  override name = 'ControlApiError';
  constructor(readonly call: string, readonly status: number, readonly code: string | undefined, reason: string) {
    super(`${call}: HTTP ${status}${code ? ` ${code}` : ''}${reason ? `: ${reason}` : ''}`);
  }
}

/**
 * The few REST calls of a host that `podlive-load --publish` makes, as the web app makes them:
 * log in (POST /api/auth/login, a verified account), create a live, start it (the answer has the
 * host's MediaJoin), end it. The access token goes as a Bearer header.
 */
export class ControlApi {
  #accessToken: string | undefined;
  #credentials: { email: string; password: string } | undefined;

  constructor(readonly url: string) {}

  /** Logs in; going live needs a verified email (the server answers EMAIL_NOT_VERIFIED otherwise). */
  async login(email: string, password: string): Promise<LoginResponse['user']> {
    const res = await this.#call<LoginResponse>('POST', '/api/auth/login', { email, password });
    this.#accessToken = res.accessToken;
    this.#credentials = { email, password };
    return res.user;
  }

  async createLive(title: string): Promise<LiveSession> {
    return (await this.#call<{ session: LiveSession }>('POST', '/api/live/create', { title, category: 'Tech' })).session;
  }

  startLive(id: string): Promise<StartLiveResponse> {
    return this.#call<StartLiveResponse>('POST', `/api/live/${encodeURIComponent(id)}/start`, {});
  }

  async endLive(id: string): Promise<void> {
    await this.#call('POST', `/api/live/${encodeURIComponent(id)}/end`, {});
  }

  /** One call; a 401 after the access token expired (a run longer than its TTL) logs in again and retries once. */
  async #call<T>(method: string, path: string, body: unknown): Promise<T> {
    try {
      return await this.#once<T>(method, path, body);
    } catch (err) {
      const creds = this.#credentials;
      if (!(err instanceof ControlApiError) || err.status !== 401 || !creds || path === '/api/auth/login') throw err;
      await this.login(creds.email, creds.password);
      return await this.#once<T>(method, path, body);
    }
  }

  async #once<T>(method: string, path: string, body: unknown): Promise<T> {
    const call = `${method} ${path}`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#accessToken) headers.authorization = `Bearer ${this.#accessToken}`;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, { method, headers, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      throw new ControlApiError(call, 0, undefined, `control plane unreachable: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (!res.ok) {
      let error: { code?: string; message?: string } = {};
      try {
        error = (JSON.parse(text) as { error?: typeof error }).error ?? {};
      } catch {
        // not JSON: the status says enough
      }
      throw new ControlApiError(call, res.status, error.code, error.message ?? '');
    }
    return (text ? JSON.parse(text) : {}) as T;
  }
}
