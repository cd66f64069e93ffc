import { error } from '@sveltejs/kit';
import type { PublicUser } from '@podlive/shared/accounts';
import type { LiveSession } from '@podlive/shared/live';
import { api, ApiFailure, encodePath } from '$lib/server/api';
import { setFollowing } from '$lib/server/follow';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ params, locals }) => {
  let session: LiveSession;
  try {
    session = await api<LiveSession>(`/api/live/${encodePath(params.id)}`, { token: locals.accessToken });
  } catch (err) {
    if (err instanceof ApiFailure && (err.status === 404 || err.status === 400)) error(404, 'This live does not exist');
    throw err;
  }
  const isHost = locals.user?.id === session.host.id;
  // Whether the viewer follows the host (the profile knows); a failure only hides the state.
  const isFollowing =
    locals.user && !isHost
      ? await api<PublicUser>(`/api/users/${encodePath(session.host.handle)}`, { token: locals.accessToken }).then(
          (host) => host.isFollowing ?? false,
          () => false,
        )
      : false;
  return { session, isHost, isFollowing, userId: locals.user?.id ?? null };
};

export const actions: Actions = {
  follow: (event) => setFollowing(event, true, `/live/${event.params.id}`),
  unfollow: (event) => setFollowing(event, false, `/live/${event.params.id}`),
};
