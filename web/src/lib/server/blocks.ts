import type { BlockedUsers } from '@podlive/shared/social';
import { api, ApiFailure } from './api';

/** Whether the signed-in user blocked `userId` (false when that cannot be told: the page offers Block). */
export async function hasBlocked(userId: string, token: string | null): Promise<boolean> {
  if (!token) return false;
  try {
    const { items } = await api<BlockedUsers>('/api/users/me/blocks', { token });
    return items.some((u) => u.id === userId);
  } catch (err) {
    if (!(err instanceof ApiFailure)) throw err;
    return false;
  }
}
