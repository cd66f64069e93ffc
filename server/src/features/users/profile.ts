import { databaseErrorOf, type Db, eq, equalsIgnoringCase, sql, users } from '@podlive/db';
import type { PublicUser, SelfUser, UpdateMeBody } from '@podlive/shared/accounts';
import { HANDLE_PATTERN, handleSkeleton, normalizeHandle } from '@podlive/shared/handles';
import { ApiError } from '../../errors';
import { assertHandleAllowed, isHandleTaken } from './handles';
import { findUserRow, handleChangeAllowedAt, loadSelfUser, toPublicUser } from './present';

/** GET /api/users/:handle: case-insensitive, a leading @ accepted; isFollowing for a signed-in viewer. */
export async function publicProfile(db: Db, input: string, viewerId: string | null): Promise<PublicUser> {
  const handle = normalizeHandle(input);
  // Nothing that is not a handle reaches the query (a NUL would fail it): no such user.
  if (!HANDLE_PATTERN.test(handle)) throw new ApiError('USER_NOT_FOUND');
  const row = await findUserRow(db, equalsIgnoringCase(users.handle, handle), viewerId);
  if (row === undefined) throw new ApiError('USER_NOT_FOUND');
  return toPublicUser(row);
}

/**
 * PUT /api/users/me. A handle change is any change of the stored string, a change of case
 * included (it changes how the handle is shown everywhere); setting the exact current handle is
 * not a change. Changes are allowed once per HANDLE_CHANGE_INTERVAL_DAYS: 403
 * HANDLE_CHANGE_TOO_SOON names the date. The row is locked so two requests can't both pass.
 */
export async function updateMe(db: Db, userId: string, body: UpdateMeBody): Promise<SelfUser> {
  if (body.handle !== undefined) assertHandleAllowed(body.handle);
  try {
    await db.transaction(async (tx) => {
      const [user] = await tx.select().from(users).where(eq(users.id, userId)).for('update');
      if (user === undefined) throw new ApiError('UNAUTHENTICATED');
      const changes: Partial<typeof users.$inferInsert> = {};
      if (body.displayName !== undefined) changes.displayName = body.displayName;
      if (body.bio !== undefined) changes.bio = body.bio;
      if (body.handle !== undefined && body.handle !== user.handle) {
        const allowedAt = handleChangeAllowedAt(user);
        if (allowedAt !== null) {
          const when = allowedAt.toISOString();
          throw new ApiError('HANDLE_CHANGE_TOO_SOON', {
            message: `You can change your handle again on ${when}`,
            fields: { handle: `You can change your handle again on ${when}`, handleChangeAllowedAt: when },
          });
        }
        changes.handle = body.handle;
        changes.handleSkeleton = handleSkeleton(body.handle);
        changes.handleChangedAt = sql`now()` as unknown as Date;
      }
      if (Object.keys(changes).length > 0) await tx.update(users).set(changes).where(eq(users.id, userId));
    });
  } catch (err) {
    const dbErr = databaseErrorOf(err);
    if (isHandleTaken(dbErr)) {
      throw new ApiError('HANDLE_TAKEN', { fields: { handle: 'This handle is taken' }, cause: err });
    }
    throw err;
  }
  const self = await loadSelfUser(db, userId);
  if (self === undefined) throw new ApiError('UNAUTHENTICATED');
  return self;
}
