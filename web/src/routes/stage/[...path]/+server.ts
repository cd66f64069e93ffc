import { error } from '@sveltejs/kit';
import { relay, requireToken } from '$lib/server/relay';
import type { RequestEvent, RequestHandler } from './$types';

/** The stage calls this page's browser code makes (see shared/src/stage.ts). */
const ROUTES: { method: 'GET' | 'POST' | 'DELETE'; path: RegExp; status?: number }[] = [
  { method: 'POST', path: /^invite$/, status: 201 },
  { method: 'POST', path: /^invite\/[\w-]+\/(accept|reject)$/ },
  { method: 'POST', path: /^leave$/ },
  { method: 'POST', path: /^guest\/[\w-]+\/mute$/ },
  { method: 'DELETE', path: /^guest\/[\w-]+$/ },
  { method: 'GET', path: /^[\w-]+\/(guests|suggestions)$/ },
];

/**
 * Relays /stage/<path> to the API's /api/stage/<path> with the signed-in user's token (the
 * access token stays in its httpOnly cookie). Only the contract's calls pass.
 */
async function stage(event: RequestEvent, method: 'GET' | 'POST' | 'DELETE'): Promise<Response> {
  const route = ROUTES.find((r) => r.method === method && r.path.test(event.params.path));
  if (!route) error(404, 'Not found');
  // Anyone watching may see who is on stage; everything else is someone's own call.
  const token = /\/guests$/.test(event.params.path) ? event.locals.accessToken : requireToken(event);
  const body = method === 'POST' ? await event.request.json().catch(() => ({})) : undefined;
  const response = await relay(`/api/stage/${event.params.path}${event.url.search}`, { method, token, body }, route.status);
  response.headers.set('cache-control', 'no-store');
  return response;
}

export const GET: RequestHandler = (event) => stage(event, 'GET');
export const POST: RequestHandler = (event) => stage(event, 'POST');
export const DELETE: RequestHandler = (event) => stage(event, 'DELETE');
