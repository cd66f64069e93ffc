import { fail, redirect } from '@sveltejs/kit';
import { api, ApiFailure, encodePath } from './api';
import { text } from './forms';

interface FollowEvent {
  locals: App.Locals;
  request: Request;
}

/**
 * The Follow / Unfollow form actions (profile pages, live pages): the form sends `userId`.
 * Signed-out visitors are sent to log in and come back to `returnTo`.
 */
export async function setFollowing({ locals, request }: FollowEvent, follow: boolean, returnTo: string) {
  if (!locals.user) redirect(303, `/login?redirectTo=${encodeURIComponent(returnTo)}`);
  const userId = text(await request.formData(), 'userId');
  try {
    await api(`/api/users/${encodePath(userId)}/follow`, { method: follow ? 'POST' : 'DELETE', token: locals.accessToken });
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    return fail(err.status >= 400 && err.status < 600 ? err.status : 502, { message: err.message });
  }
  return { message: null };
}
