import { encodePath } from '$lib/server/api';
import { relay } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** A short-lived media token to watch this live (signed in or not): {url, token}. Never cached. */
export const GET: RequestHandler = async (event) => {
  const response = await relay(`/api/live/${encodePath(event.params.id)}/token`, { token: event.locals.accessToken });
  response.headers.set('cache-control', 'no-store');
  return response;
};
