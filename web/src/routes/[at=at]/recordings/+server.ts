import { relay } from '$lib/server/relay';
import { recordingsPath } from '$lib/server/recordings';
import type { RequestHandler } from './$types';

/**
 * GET /@handle/recordings?cursor=: the profile's next page of recordings (RecordingsPage), as the
 * signed-in user sees it (the owner sees their processing and private ones too).
 */
export const GET: RequestHandler = async ({ params, url, locals }) => {
  const response = await relay(recordingsPath(params.at.slice(1), url.searchParams.get('cursor')), { token: locals.accessToken });
  response.headers.set('cache-control', 'private, no-store');
  return response;
};
