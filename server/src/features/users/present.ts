import { and, type Db, eq, follows, liveSessions, sql, type SQL, type User, users } from '@podlive/db';
import { HANDLE_CHANGE_INTERVAL_DAYS } from '@podlive/shared/handles';
import type { PublicUser, SelfUser } from '@podlive/shared/accounts';
import { mediaUrl } from '../../media/routes';

export const avatarUrl = mediaUrl;

const DAY_MS = 24 * 60 * 60 * 1000;

/** When the user may change their handle again; null when they may now. */
export function handleChangeAllowedAt(user: Pick<User, 'handleChangedAt'>, now = new Date()): Date | null {
  if (user.handleChangedAt === null) return null;
  const allowed = new Date(user.handleChangedAt.getTime() + HANDLE_CHANGE_INTERVAL_DAYS * DAY_MS);
  return allowed > now ? allowed : null;
}

export interface UserRow {
  user: User;
  isLive: boolean;
  isFollowing: boolean | null;
}

const isLive = sql<boolean>`exists (select 1 from ${liveSessions} where ${liveSessions.hostId} = ${users.id} and ${liveSessions.status} = 'live')`;

/** One user matching `where`, with whether they're live and whether `viewerId` follows them. */
export async function findUserRow(db: Db, where: SQL, viewerId: string | null = null): Promise<UserRow | undefined> {
  const isFollowing =
    viewerId === null
      ? sql<null>`null`
      : sql<boolean>`exists (select 1 from ${follows} where ${and(eq(follows.followerId, viewerId), eq(follows.followeeId, users.id))})`;
  const [row] = await db.select({ user: users, isLive, isFollowing }).from(users).where(where).limit(1);
  return row;
}

export function toPublicUser(row: Omit<UserRow, 'isFollowing'> & { isFollowing?: boolean | null }): PublicUser {
  const { user } = row;
  const out: PublicUser = {
    id: user.id,
    handle: user.handle,
    displayName: user.displayName,
    avatarUrl: avatarUrl(user.avatarKey),
    bio: user.bio,
    followerCount: user.followerCount,
    followingCount: user.followingCount,
    isVerified: user.verified,
    isLive: row.isLive,
    createdAt: user.createdAt.toISOString(),
  };
  if (typeof row.isFollowing === 'boolean') out.isFollowing = row.isFollowing;
  return out;
}

export function toSelfUser(row: Omit<UserRow, 'isFollowing'>): SelfUser {
  const allowedAt = handleChangeAllowedAt(row.user);
  return {
    ...toPublicUser(row),
    email: row.user.email,
    emailVerified: row.user.emailVerified,
    handleChangeAllowedAt: allowedAt === null ? null : allowedAt.toISOString(),
  };
}

/** The signed-in user's own view, read fresh from the database. */
export async function loadSelfUser(db: Db, userId: string): Promise<SelfUser | undefined> {
  const row = await findUserRow(db, eq(users.id, userId));
  return row === undefined ? undefined : toSelfUser(row);
}
