import { fail, redirect } from '@sveltejs/kit';
import { updateMeBody, type SelfUser, type UpdateMeBody } from '@podlive/shared/accounts';
import { HANDLE_CHANGE_INTERVAL_DAYS } from '@podlive/shared/handles';
import { api } from '$lib/server/api';
import { invalid, refused, text, zodFields } from '$lib/server/forms';
import type { Actions, PageServerLoad, RequestEvent } from './$types';

const AVATAR_MAX_BYTES = 5 * 1024 * 1024;

function signedIn({ locals }: Pick<RequestEvent, 'locals'>): { user: SelfUser; token: string } {
  if (!locals.user || !locals.accessToken) redirect(303, `/login?redirectTo=${encodeURIComponent('/settings/profile')}`);
  return { user: locals.user, token: locals.accessToken };
}

export const load: PageServerLoad = (event) => {
  const { user } = signedIn(event);
  return {
    me: {
      handle: user.handle,
      displayName: user.displayName,
      bio: user.bio,
      avatarUrl: user.avatarUrl,
      handleChangeAllowedAt: user.handleChangeAllowedAt,
    },
    handleChangeDays: HANDLE_CHANGE_INTERVAL_DAYS,
  };
};

export const actions: Actions = {
  profile: async (event) => {
    const { user, token } = signedIn(event);
    const data = await event.request.formData();
    const values = { displayName: text(data, 'displayName'), bio: text(data, 'bio'), handle: text(data, 'handle') };
    // Only what changed: an unchanged handle must not count as a (rate-limited) handle change.
    const changes: Partial<UpdateMeBody> = {};
    if (values.displayName !== user.displayName) changes.displayName = values.displayName;
    if (values.bio !== user.bio) changes.bio = values.bio;
    if (values.handle.replace(/^@/, '').trim() !== user.handle) changes.handle = values.handle;
    if (Object.keys(changes).length === 0) return { saved: true, values };
    const parsed = updateMeBody.safeParse(changes);
    if (!parsed.success) return invalid(zodFields(parsed.error), values);
    try {
      await api<SelfUser>('/api/users/me', { method: 'PUT', body: parsed.data, token });
    } catch (err) {
      return refused(err, values);
    }
    return { saved: true, values };
  },
  avatar: async (event) => {
    const { token } = signedIn(event);
    const file = (await event.request.formData()).get('avatar');
    if (!(file instanceof File) || file.size === 0) return fail(400, { fields: { avatar: 'Choose an image' } });
    if (!file.type.startsWith('image/')) return fail(400, { fields: { avatar: 'Use a JPEG, PNG or WebP image' } });
    if (file.size > AVATAR_MAX_BYTES) return fail(413, { fields: { avatar: 'Use an image under 5 MB' } });
    const upload = new FormData();
    upload.set('avatar', file, file.name);
    try {
      await api<SelfUser>('/api/users/me/avatar', { method: 'PUT', body: upload, token });
    } catch (err) {
      return refused(err);
    }
    return { avatarSaved: true };
  },
};
