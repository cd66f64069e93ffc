import { error, redirect } from '@sveltejs/kit';
import type { PublicUser } from '@podlive/shared/accounts';
import { api, ApiFailure, encodePath } from '$lib/server/api';
import { setFollowing } from '$lib/server/follow';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, locals }) => {
  const handle = params.at.slice(1);
  let profile: PublicUser;
  try {
    profile = await api<PublicUser>(`/api/users/${encodePath(handle)}`, { token: locals.accessToken });
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 404) error(404, `Nobody goes by @${handle} on PodLive`);
    throw err;
  }
  // One address per profile: /@Alice shows /@alice.
  if (profile.handle !== handle) redirect(301, `/@${profile.handle}`);
  return {
    profile,
    isOwner: locals.user?.id === profile.id,
    signedIn: locals.user !== null,
  };
};

export const actions: Actions = {
  follow: (event) => setFollowing(event, true, `/${event.params.at}`),
  unfollow: (event) => setFollowing(event, false, `/${event.params.at}`),
};
