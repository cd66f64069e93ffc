import { error } from '@sveltejs/kit';
import { encodePath } from '$lib/server/api';
import { relay, requireToken } from '$lib/server/relay';
import type { RequestEvent, RequestHandler } from './$types';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** The chat calls this page's browser code makes (see shared/src/chat.ts), relative to /api/live/:id. */
const ROUTES: { method: Method; path: RegExp; status?: number; api: (id: string, path: string) => string }[] = [
  { method: 'GET', path: /^$/, api: (id) => `/api/live/${id}/chat` },
  { method: 'POST', path: /^[\w-]+\/pin$/, api: (id, path) => `/api/live/${id}/chat/${path}` },
  { method: 'DELETE', path: /^pin$/, api: (id) => `/api/live/${id}/chat/pin` },
  { method: 'DELETE', path: /^[\w-]+$/, api: (id, path) => `/api/live/${id}/chat/${path}` },
  { method: 'POST', path: /^(timeouts|bans)$/, api: (id, path) => `/api/live/${id}/chat/${path}` },
  { method: 'DELETE', path: /^bans\/[\w-]+$/, api: (id, path) => `/api/live/${id}/chat/${path}` },
  { method: 'PUT', path: /^moderators\/[\w-]+$/, api: (id, path) => `/api/live/${id}/${path}` },
  { method: 'DELETE', path: /^moderators\/[\w-]+$/, api: (id, path) => `/api/live/${id}/${path}` },
];

/**
 * Relays /live/<id>/chat/<path> to the API with the signed-in user's token (the history is open to
 * anyone watching; moderation needs an account, and the API decides who may).
 */
async function chat(event: RequestEvent, method: Method): Promise<Response> {
  const path = event.params.path;
  const route = ROUTES.find((r) => r.method === method && r.path.test(path));
  if (!route) error(404, 'Not found');
  const token = method === 'GET' ? event.locals.accessToken : requireToken(event);
  const body = method === 'POST' ? await event.request.json().catch(() => ({})) : undefined;
  const response = await relay(route.api(encodePath(event.params.id), path), { method, token, body }, route.status);
  response.headers.set('cache-control', 'no-store');
  return response;
}

export const GET: RequestHandler = (event) => chat(event, 'GET');
export const POST: RequestHandler = (event) => chat(event, 'POST');
export const PUT: RequestHandler = (event) => chat(event, 'PUT');
export const DELETE: RequestHandler = (event) => chat(event, 'DELETE');
