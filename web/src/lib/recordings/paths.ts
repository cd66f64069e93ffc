/** Recordings per page on a profile (the first page and each "Load more"). */
export const PROFILE_PAGE_SIZE = 8;

/**
 * The API path of one page of `handle`'s recordings, newest first: the profile's server load and
 * its "Load more" in the browser ask the same.
 */
export function recordingsPath(handle: string, cursor: string | null): string {
  const query = new URLSearchParams({ limit: String(PROFILE_PAGE_SIZE) });
  if (cursor) query.set('cursor', cursor);
  return `/api/users/${encodeURIComponent(handle)}/recordings?${query}`;
}
