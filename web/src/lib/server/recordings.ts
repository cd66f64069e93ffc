import type { RecordingsPage } from '@podlive/shared/recording';
import { recordingsPath } from '$lib/recordings/paths';
import { api } from './api';

/**
 * One page of a user's recordings. With the owner's token it includes their processing, failed
 * and private ones; anyone else sees the ready, public ones.
 */
export const recordingsPage = (handle: string, cursor: string | null, token: string | null) =>
  api<RecordingsPage>(recordingsPath(handle, cursor), { token });
