import { error, json, type RequestEvent } from '@sveltejs/kit';
import { api, ApiFailure, type ApiRequest } from './api';

/**
 * The page's browser code reaches the API through endpoints of this app, because the access
 * token sits in an httpOnly cookie the page cannot read: each endpoint calls the API with the
 * signed-in user's token (from `locals`) and relays its answer, status and error body included.
 */
export async function relay(path: string, request: ApiRequest, status = 200): Promise<Response> {
  try {
    return json((await api<unknown>(path, request)) ?? null, { status });
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    return json({ error: { code: err.code, message: err.message, fields: err.fields } }, { status: err.status });
  }
}

/** The signed-in user's access token; a 401 otherwise. */
export function requireToken(event: Pick<RequestEvent, 'locals'>): string {
  const token = event.locals.accessToken;
  if (!event.locals.user || !token) error(401, 'Log in to do this');
  return token;
}
