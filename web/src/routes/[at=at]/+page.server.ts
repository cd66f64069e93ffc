import { error, redirect } from '@sveltejs/kit';
import type { PublicUser } from '@podlive/shared/accounts';
import type { RecordingsPage } from '@podlive/shared/recording';
import { api, ApiFailure, encodePath } from '$lib/server/api';
import { setFollowing } from '$lib/server/follow';
import { hasBlocked } from '$lib/server/blocks';
import { recordingsPage } from '$lib/server/recordings';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, locals, url }) => {
  const handle = params.at.slice(1);
  // `?cursor=`: the "Load more" link without JavaScript (the page script appends instead).
  const cursor = url.searchParams.get('cursor');
  const [profileResult, recordingsResult] = await Promise.allSettled([
    api<PublicUser>(`/api/users/${encodePath(handle)}`, { token: locals.accessToken }),
    recordingsPage(handle, cursor, locals.accessToken),
  ]);
  if (profileResult.status === 'rejected') {
    const err: unknown = profileResult.reason;
    if (err instanceof ApiFailure && err.status === 404) error(404, `Nobody goes by @${handle} on PodLive`);
    throw err;
  }
  const profile = profileResult.value;
  // One address per profile: /@Alice shows /@alice.
  if (profile.handle !== handle) redirect(301, `/@${profile.handle}`);
  let recordings: RecordingsPage | null = null;
  let recordingsProblem: string | null = null;
  if (recordingsResult.status === 'fulfilled') recordings = recordingsResult.value;
  else if (recordingsResult.reason instanceof ApiFailure) recordingsProblem = recordingsResult.reason.fields.cursor ?? recordingsResult.reason.message;
  else throw recordingsResult.reason;
  return {
    profile,
    recordings,
    recordingsProblem,
    isOwner: locals.user?.id === profile.id,
    signedIn: locals.user !== null,
    isBlocked: locals.user !== null && locals.user.id !== profile.id && (await hasBlocked(profile.id, locals.accessToken)),
  };
};

export const actions: Actions = {
  follow: (event) => setFollowing(event, true, `/${event.params.at}`),
  unfollow: (event) => setFollowing(event, false, `/${event.params.at}`),
};
