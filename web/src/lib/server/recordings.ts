import type { RecordingsPage } from '@podlive/shared/recording';
import { api, encodePath } from './api';

/** Recordings per page on a profile (the first page and each "Load more"). */
export const PROFILE_PAGE_SIZE = 8;

/** The API path of one page of `handle`'s recordings, newest first. */
export function recordingsPath(handle: string, cursor: string | null): string {
  const query = new URLSearchParams({ limit: String(PROFILE_PAGE_SIZE) });
  if (cursor) query.set('cursor', cursor);
  return `/api/users/${encodePath(handle)}/recordings?${query}`;
}

/**
 * One page of a user's recordings. With the owner's token it includes their processing, failed
 * and private ones; anyone else sees the ready, public ones.
 */
export const recordingsPage = (handle: string, cursor: string | null, token: string | null) =>
  api<RecordingsPage>(recordingsPath(handle, cursor), { token });
