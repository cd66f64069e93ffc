/** SQLSTATE codes the callers of this package act on (a duplicate handle is a 409, not a 500). */
export const PgErrorCode = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
} as const;

export interface DatabaseError {
  /** The SQLSTATE, e.g. `23505` (see `PgErrorCode`). */
  readonly code: string;
  /** The constraint or index that refused the row, when there is one. */
  readonly constraint: string | undefined;
  readonly message: string;
}

/**
 * The PostgreSQL error behind `err`, whichever driver raised it, or undefined for anything else.
 * Drizzle wraps driver errors (`DrizzleQueryError`, original in `cause`); postgres.js names the
 * constraint `constraint_name`, PGlite `constraint`.
 */
export function databaseErrorOf(err: unknown): DatabaseError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const e = current as { code?: unknown; severity?: unknown; message?: unknown; cause?: unknown };
    // `severity` tells a server error from a Node system error (`code: 'EPIPE'`).
    if (typeof e.code === 'string' && typeof e.severity === 'string') {
      const named = current as { constraint_name?: unknown; constraint?: unknown };
      const constraint = named.constraint_name ?? named.constraint;
      return {
        code: e.code,
        constraint: typeof constraint === 'string' ? constraint : undefined,
        message: typeof e.message === 'string' ? e.message : String(e.code),
      };
    }
    current = e.cause;
  }
  return undefined;
}

/** True when `err` is a unique violation (of `constraint`, when given). */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const dbErr = databaseErrorOf(err);
  if (dbErr?.code !== PgErrorCode.uniqueViolation) return false;
  return constraint === undefined || dbErr.constraint === constraint;
}
