import type { DiscoverPage } from '@podlive/shared/social';
import { api, ApiFailure } from '$lib/server/api';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals }) => {
  try {
    return { discover: await api<DiscoverPage>('/api/discover', { token: locals.accessToken }), problem: null };
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    console.error(`web: /api/discover failed (${err.status} ${err.code})`);
    return { discover: null, problem: 'Discover is not available right now. Try again in a moment.' };
  }
};
