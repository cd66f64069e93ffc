import type { LiveSession } from '@podlive/shared/live';
import { api, ApiFailure } from '$lib/server/api';
import type { PageServerLoad } from './$types';

interface LivePage {
  items: LiveSession[];
  page: number;
  limit: number;
  hasMore: boolean;
}

/** A feed that fails shows as unavailable; the rest of the page still renders. */
async function feed(path: string, token: string | null): Promise<LiveSession[] | null> {
  try {
    return (await api<LivePage>(path, { token })).items;
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    console.error(`web: ${path} failed (${err.status} ${err.code})`);
    return null;
  }
}

export const load: PageServerLoad = async ({ locals }) => {
  const [live, upcoming] = await Promise.all([feed('/api/live/active?limit=24', locals.accessToken), feed('/api/live/scheduled?limit=12', locals.accessToken)]);
  return { live, upcoming, signedIn: locals.user !== null };
};
