import type { PublicUser } from '@podlive/shared/accounts';

/** What a row in a list of people shows. */
export type UserSummary = Pick<PublicUser, 'id' | 'handle' | 'displayName' | 'avatarUrl' | 'followerCount'>;

export const summary = ({ id, handle, displayName, avatarUrl, followerCount }: PublicUser): UserSummary => ({ id, handle, displayName, avatarUrl, followerCount });
