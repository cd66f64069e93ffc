import { error, redirect } from '@sveltejs/kit';
import { type Recording, type RecordingViewResult, recordingPatchBody } from '@podlive/shared/recording';
import { api, ApiFailure, encodePath } from '$lib/server/api';
import { invalid, refused, text, zodFields } from '$lib/server/forms';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

/** What a visitor who may not see it is told: the API answers 404 for private and deleted ones alike. */
const NOT_AVAILABLE = 'This recording is not available. It may be private, or it was deleted.';

export const load: PageServerLoad = async ({ params, locals }) => {
  let recording: Recording;
  try {
    recording = await api<Recording>(`/api/recordings/${encodePath(params.id)}`, { token: locals.accessToken });
  } catch (err) {
    if (err instanceof ApiFailure && (err.status === 404 || err.status === 400)) error(404, NOT_AVAILABLE);
    throw err;
  }
  return { recording, isOwner: locals.user?.id === recording.owner.id };
};

/** The signed-in user's token and handle (the API decides whether they own it); the signed-out are sent to log in and come back here. */
function signedIn({ locals, params }: Pick<RequestEvent, 'locals' | 'params'>): { token: string; handle: string } {
  if (!locals.user || !locals.accessToken) redirect(303, `/login?redirectTo=${encodeURIComponent(`/recordings/${params.id}`)}`);
  return { token: locals.accessToken, handle: locals.user.handle };
}

async function patch(event: RequestEvent, changes: Record<string, string>) {
  const { token } = signedIn(event);
  const parsed = recordingPatchBody.safeParse(changes);
  if (!parsed.success) return invalid(zodFields(parsed.error), changes);
  try {
    await api<Recording>(`/api/recordings/${encodePath(event.params.id)}`, { method: 'PATCH', body: parsed.data, token });
  } catch (err) {
    return refused(err, changes);
  }
  return { saved: Object.keys(parsed.data) };
}

export const actions: Actions = {
  rename: async (event) => patch(event, { title: text(await event.request.formData(), 'title') }),
  visibility: async (event) => patch(event, { visibility: text(await event.request.formData(), 'visibility') }),
  // The player's first play (fetched by the page, not a form): the API counts it or not.
  view: async ({ params, locals }) => {
    try {
      return await api<RecordingViewResult>(`/api/recordings/${encodePath(params.id)}/views`, { method: 'POST', token: locals.accessToken });
    } catch (err) {
      return refused(err);
    }
  },
  delete: async (event) => {
    const { token, handle } = signedIn(event);
    try {
      await api(`/api/recordings/${encodePath(event.params.id)}`, { method: 'DELETE', token });
    } catch (err) {
      // 409 RECORDING_PROCESSING among them: the API's message says to wait until it is ready.
      return refused(err);
    }
    redirect(303, `/@${handle}`);
  },
};
