import { getRequestEvent } from '$app/server';
import type { ClientErrorCode, ErrorBody } from '@podlive/shared/errors';
import { webConfig } from './config';

/** The control plane's API, as this server process reaches it (API_URL). */
const apiUrl = () => webConfig().apiUrl;

/** A non-2xx answer of the API (or the API being unreachable: status 503). */
export class ApiFailure extends Error {
  override name = 'ApiFailure';
  constructor(
    readonly status: number,
    readonly code: ClientErrorCode,
    message: string,
    readonly fields: Record<string, string> = {},
    /** Retry-After of a 429, in seconds. */
    readonly retryAfter: string | undefined = undefined,
  ) {
    super(message);
  }
}

export interface ApiRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Sent as JSON, or as-is when it is FormData (multipart). */
  body?: unknown;
  /** Access token, sent as `Authorization: Bearer`. */
  token?: string | null;
}

/** Calls the API; resolves with the parsed JSON (undefined for 204), throws ApiFailure otherwise. */
export async function api<T>(path: string, request: ApiRequest = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  // The browser's address, so the API's per-IP rate limits count each visitor, not this process.
  const clientAddress = browserAddress();
  if (clientAddress) headers['x-forwarded-for'] = clientAddress;
  let body: BodyInit | undefined;
  if (request.body instanceof FormData) body = request.body;
  else if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.body);
  }
  let response: Response;
  try {
    response = await fetch(`${apiUrl()}${path}`, { method: request.method ?? 'GET', headers, body, signal: AbortSignal.timeout(10_000) });
  } catch {
    throw new ApiFailure(503, 'SERVICE_UNAVAILABLE', 'PodLive is not reachable right now, try again in a moment');
  }
  if (response.ok) {
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
  const failure = (await response.json().catch(() => null)) as Partial<ErrorBody> | null;
  const error = failure?.error;
  const retryAfter = response.headers.get('retry-after') ?? undefined;
  throw new ApiFailure(response.status, error?.code ?? 'UNKNOWN', error?.message ?? `Request failed (${response.status})`, fieldsOf(error?.fields), retryAfter);
}

function browserAddress(): string | undefined {
  try {
    return getRequestEvent().getClientAddress();
  } catch {
    return undefined; // outside a request
  }
}

/** Field reasons keyed by the form field's name (`body.handle` → `handle`). */
function fieldsOf(fields: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, reason] of Object.entries(fields ?? {})) out[path.split('.').pop() ?? path] = reason;
  return out;
}

export const encodePath = (segment: string) => encodeURIComponent(segment);
