import { type DatabaseError, equalsIgnoringCase, eq, or, PgErrorCode, users, type Db } from '@podlive/db';
import type { CheckHandleResponse } from '@podlive/shared/accounts';
import { handleProblem, handleSkeleton, normalizeHandle } from '@podlive/shared/handles';
import { ApiError } from '../../errors';

/** Throws 400 VALIDATION_FAILED / HANDLE_PROHIBITED (fields.handle) unless `handle` may be used. */
export function assertHandleAllowed(handle: string): void {
  const problem = handleProblem(handle);
  if (problem === 'invalid') throw new ApiError('VALIDATION_FAILED', { fields: { handle: 'Use 3–30 letters, digits or underscores' } });
  if (problem === 'prohibited') throw new ApiError('HANDLE_PROHIBITED', { fields: { handle: 'This handle is not allowed' } });
}

/**
 * The unique indexes behind "handle taken": the handle whatever its case, and its look-alike key
 * (handleSkeleton), so `podIive` is taken once `podlive` exists. A violation of either is 409
 * HANDLE_TAKEN, even in a race.
 */
export const HANDLE_UNIQUE_INDEXES: readonly string[] = ['users_handle_lower_key', 'users_handle_skeleton_key'];
export const EMAIL_UNIQUE_INDEX = 'users_email_lower_key';

/** GET /api/auth/check-handle/:handle: a hint for forms; the write is what decides. */
export async function checkHandle(db: Db, input: string): Promise<CheckHandleResponse> {
  const handle = normalizeHandle(input);
  const problem = handle.length > 64 ? 'invalid' : handleProblem(handle);
  if (problem !== null) return { available: false, reason: problem };
  const [taken] = await db
    .select({ id: users.id })
    .from(users)
    .where(or(equalsIgnoringCase(users.handle, handle), eq(users.handleSkeleton, handleSkeleton(handle))))
    .limit(1);
  return taken === undefined ? { available: true } : { available: false, reason: 'taken' };
}

/** Whether a database error is a handle (or look-alike handle) already in use. */
export function isHandleTaken(dbErr: DatabaseError | undefined): boolean {
  return dbErr?.code === PgErrorCode.uniqueViolation && dbErr.constraint !== undefined && HANDLE_UNIQUE_INDEXES.includes(dbErr.constraint);
}
