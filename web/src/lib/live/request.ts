import type { ClientErrorCode, ErrorBody } from '@podlive/shared/errors';

/** A refusal of an /api call (the API's `{ error: { code, message, fields } }`). */
export class RequestFailure extends Error {
  override name = 'RequestFailure';
  constructor(
    readonly status: number,
    /** The API's code (ErrorCode), NETWORK when nothing answered, UNKNOWN for an answer without one. */
    readonly code: ClientErrorCode,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface RequestInit {
  method?: string;
  /** Sent as JSON, or as-is when it is FormData (multipart). */
  body?: unknown;
  signal?: AbortSignal;
}

/** The renewal in flight: the calls of one page that meet an expired token share it. */
let renewal: Promise<void> | null = null;

/**
 * POST /api/auth/renew: the API rotates the refresh cookie into fresh access and refresh cookies
 * (or clears both when the session is over, so the retry goes out signed out).
 */
function renew(): Promise<void> {
  renewal ??= fetch('/api/auth/renew', { method: 'POST', credentials: 'same-origin' })
    .then(() => undefined, () => undefined)
    .finally(() => {
      renewal = null;
    });
  return renewal;
}

/**
 * Calls the control plane's /api from the page, straight (same origin): the browser sends the
 * httpOnly access cookie, which the API reads like a bearer token. An expired token is answered
 * 401 UNAUTHENTICATED: the session is renewed once and the call repeated. Resolves with the
 * parsed JSON (null for 204); throws RequestFailure on a non-2xx answer.
 */
export async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  let response = await send(path, init);
  if (response.status === 401 && !path.startsWith('/api/auth/')) {
    const code = await errorOf(response.clone()).then((e) => e?.code);
    if (code === 'UNAUTHENTICATED') {
      await renew();
      response = await send(path, init);
    }
  }
  const data = (await response.json().catch(() => null)) as unknown;
  if (response.ok) return data as T;
  const error = errorBody(data);
  throw new RequestFailure(response.status, error?.code ?? 'UNKNOWN', error?.message ?? `Request failed (${response.status})`, fieldsOf(error?.fields));
}

async function send(path: string, init: RequestInit): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: BodyInit | undefined;
  if (init.body instanceof FormData) body = init.body;
  else if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  try {
    return await fetch(path, { method: init.method ?? 'GET', headers, body, credentials: 'same-origin', signal: init.signal });
  } catch {
    throw new RequestFailure(0, 'NETWORK', 'PodLive is not reachable right now, try again in a moment');
  }
}

type ErrorDetail = Partial<ErrorBody['error']>;

const errorBody = (data: unknown): ErrorDetail | undefined => (data as { error?: ErrorDetail } | null)?.error;
const errorOf = async (response: Response) => errorBody(await response.json().catch(() => null));

/** Field reasons keyed by the form field's name (`body.handle` → `handle`). */
function fieldsOf(fields: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, reason] of Object.entries(fields ?? {})) out[path.split('.').pop() ?? path] = reason;
  return out;
}
