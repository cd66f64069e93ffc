import { redirect } from '@sveltejs/kit';
import { REFRESH_COOKIE } from '@podlive/shared/accounts';
import { api, ApiFailure } from '$lib/server/api';
import { clearSession } from '$lib/server/session';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = () => redirect(303, '/');

export const actions: Actions = {
  default: async ({ cookies, url }) => {
    const refreshToken = cookies.get(REFRESH_COOKIE);
    if (refreshToken !== undefined) {
      try {
        await api('/api/auth/logout', { method: 'POST', body: { refreshToken } });
      } catch (err) {
        // Signed out here either way; a token the API already forgot is no reason to stay in.
        if (!(err instanceof ApiFailure)) throw err;
      }
    }
    clearSession(cookies, url);
    redirect(303, '/');
  },
};
