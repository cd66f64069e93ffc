import { redirect } from '@sveltejs/kit';
import { LIVE_CATEGORIES } from '@podlive/shared/live';
import type { PageServerLoad } from './$types';

export const load: PageServerLoad = ({ locals }) => {
  if (!locals.user) redirect(303, `/login?redirectTo=${encodeURIComponent('/studio')}`);
  return { categories: LIVE_CATEGORIES, host: { handle: locals.user.handle, displayName: locals.user.displayName } };
};
