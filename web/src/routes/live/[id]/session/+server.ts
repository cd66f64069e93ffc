import { encodePath } from '$lib/server/api';
import { relay } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** The live as it is now (the viewer page polls it while waiting for a scheduled start). */
export const GET: RequestHandler = async (event) => {
  const response = await relay(`/api/live/${encodePath(event.params.id)}`, { token: event.locals.accessToken });
  response.headers.set('cache-control', 'no-store');
  return response;
};
