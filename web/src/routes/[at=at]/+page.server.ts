import { error, fail, redirect } from '@sveltejs/kit';
import type { PublicUser } from '@podlive/shared/accounts';
import { api, ApiFailure, encodePath } from '$lib/server/api';
import { text } from '$lib/server/forms';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

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

async function setFollowing(event: RequestEvent, follow: boolean) {
  const { locals, request, params } = event;
  if (!locals.user) redirect(303, `/login?redirectTo=${encodeURIComponent(`/${params.at}`)}`);
  const userId = text(await request.formData(), 'userId');
  try {
    await api(`/api/users/${encodePath(userId)}/follow`, { method: follow ? 'POST' : 'DELETE', token: locals.accessToken });
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    return fail(err.status >= 400 && err.status < 600 ? err.status : 502, { message: err.message });
  }
  return { message: null };
}

export const actions: Actions = {
  follow: (event) => setFollowing(event, true),
  unfollow: (event) => setFollowing(event, false),
};
