import type { LayoutServerLoad } from './$types';

/** Only what the header needs of the signed-in user. */
export const load: LayoutServerLoad = ({ locals }) => {
  const user = locals.user;
  return { viewer: user ? { handle: user.handle, displayName: user.displayName, avatarUrl: user.avatarUrl } : null };
};
