/** A refusal of one of this app's JSON endpoints (the API's `{ error: { code, message, fields } }`). */
export class RequestFailure extends Error {
  override name = 'RequestFailure';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Calls a same-origin JSON endpoint of the web app; throws RequestFailure on a non-2xx answer. */
export async function request<T>(path: string, init: { method?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: BodyInit | undefined;
  if (init.body instanceof FormData) body = init.body;
  else if (init.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(init.body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method: init.method ?? 'GET', headers, body, credentials: 'same-origin', signal: init.signal });
  } catch {
    throw new RequestFailure(0, 'NETWORK', 'PodLive is not reachable right now, try again in a moment');
  }
  const data = (await response.json().catch(() => null)) as unknown;
  if (response.ok) return data as T;
  const error = (data as { error?: { code?: string; message?: string; fields?: Record<string, string> } } | null)?.error;
  // SvelteKit's own errors (error(401, …)) are `{ message }`.
  const message = error?.message ?? (data as { message?: string } | null)?.message ?? `Request failed (${response.status})`;
  throw new RequestFailure(response.status, error?.code ?? 'UNKNOWN', message, error?.fields ?? {});
}
