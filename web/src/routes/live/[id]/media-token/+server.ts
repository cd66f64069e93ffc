import { viewerTokenQuery } from '@podlive/shared/live';
import { encodePath } from '$lib/server/api';
import { relay } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/**
 * A short-lived media token to watch this live (signed in or not): MediaJoin. Never cached.
 * `?exclude=<node id>` (a page whose node died or is draining) is passed on so placement skips that
 * node; anything that isn't a node id is ignored, not refused: the page still gets a token.
 */
export const GET: RequestHandler = async (event) => {
  const parsed = viewerTokenQuery.safeParse({ exclude: event.url.searchParams.get('exclude') ?? undefined });
  const exclude = parsed.success ? parsed.data.exclude : undefined;
  const query = exclude === undefined ? '' : `?exclude=${encodeURIComponent(exclude)}`;
  const response = await relay(`/api/live/${encodePath(event.params.id)}/token${query}`, { token: event.locals.accessToken });
  response.headers.set('cache-control', 'no-store');
  return response;
};
