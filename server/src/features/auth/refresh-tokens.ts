import { and, type Db, eq, gt, isNull, refreshTokenFamilies, retiredRefreshTokens, sql } from '@podlive/db';
import { ACCESS_TOKEN_TTL_SEC, REFRESH_TOKEN_TTL_DAYS } from '@podlive/shared/accounts';
import { createHash, randomBytes } from 'node:crypto';
import { ApiError } from '../../errors';

/** Server-side lifetime of a family without "remember me" (its cookie lasts the browser session). */
export const SESSION_FAMILY_TTL_DAYS = 1;

export interface IssuedRefreshToken {
  token: string;
  userId: string;
  /** The family: the sign-in session, `sid` in its access tokens. */
  familyId: string;
  rememberMe: boolean;
  /** When the family expires (the cookie's expiry with "remember me"). */
  expiresAt: Date;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');
const newToken = () => randomBytes(32).toString('base64url');
const ttlDays = (rememberMe: boolean) => (rememberMe ? REFRESH_TOKEN_TTL_DAYS : SESSION_FAMILY_TTL_DAYS);

/**
 * Refresh tokens: opaque, single use, stored only as SHA-256 hashes. Each login starts a family;
 * each refresh swaps the family's current hash for a new one (atomically, so a token can be spent
 * once) and retires the old hash. Presenting a retired token means it was copied: the whole family
 * is revoked. Expiry slides: each refresh extends the family by its full lifetime.
 */
export class RefreshTokens {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async start(userId: string, rememberMe: boolean): Promise<IssuedRefreshToken> {
    const token = newToken();
    const [family] = await this.#db
      .insert(refreshTokenFamilies)
      .values({
        userId,
        rememberMe,
        currentTokenHash: hashToken(token),
        expiresAt: sql`now() + make_interval(days => ${ttlDays(rememberMe)})`,
      })
      .returning();
    if (family === undefined) throw new Error('insert returned no family');
    return { token, userId, familyId: family.id, rememberMe, expiresAt: family.expiresAt };
  }

  /** Exchanges `token` for a new one; 401 REFRESH_TOKEN_INVALID, or REFRESH_TOKEN_REUSED after revoking. */
  async rotate(token: string): Promise<IssuedRefreshToken> {
    const oldHash = hashToken(token);
    const next = newToken();
    const rotated = await this.#db.transaction(async (tx) => {
      const [family] = await tx
        .update(refreshTokenFamilies)
        .set({
          currentTokenHash: hashToken(next),
          generation: sql`${refreshTokenFamilies.generation} + 1`,
          expiresAt: sql`now() + case when ${refreshTokenFamilies.rememberMe} then make_interval(days => ${REFRESH_TOKEN_TTL_DAYS}) else make_interval(days => ${SESSION_FAMILY_TTL_DAYS}) end`,
        })
        .where(
          and(
            eq(refreshTokenFamilies.currentTokenHash, oldHash),
            isNull(refreshTokenFamilies.revokedAt),
            gt(refreshTokenFamilies.expiresAt, sql`now()`),
          ),
        )
        .returning();
      if (family !== undefined) await tx.insert(retiredRefreshTokens).values({ tokenHash: oldHash, familyId: family.id });
      return family;
    });
    if (rotated !== undefined) {
      return { token: next, userId: rotated.userId, familyId: rotated.id, rememberMe: rotated.rememberMe, expiresAt: rotated.expiresAt };
    }
    const familyId = await this.#familyOfRetired(oldHash);
    if (familyId !== undefined) {
      await this.#revokeFamily(familyId);
      throw new ApiError('REFRESH_TOKEN_REUSED');
    }
    throw new ApiError('REFRESH_TOKEN_INVALID');
  }

  /**
   * Revokes the family `token` belongs to (current or retired token) and names it (revoked already
   * or not, so a repeated logout still ends the session's access tokens); unknown tokens: undefined.
   */
  async revoke(token: string): Promise<{ userId: string; familyId: string } | undefined> {
    const tokenHash = hashToken(token);
    const [family] = await this.#db
      .select({ id: refreshTokenFamilies.id })
      .from(refreshTokenFamilies)
      .where(eq(refreshTokenFamilies.currentTokenHash, tokenHash));
    const familyId = family?.id ?? (await this.#familyOfRetired(tokenHash));
    if (familyId === undefined) return undefined;
    await this.#revokeFamily(familyId);
    const [owner] = await this.#db.select({ userId: refreshTokenFamilies.userId }).from(refreshTokenFamilies).where(eq(refreshTokenFamilies.id, familyId));
    return owner === undefined ? undefined : { userId: owner.userId, familyId };
  }

  /**
   * Revokes every family of the user (password reset). Returns the ids of every family whose
   * access tokens may still be valid: those revoked now, and those revoked within an access token's life.
   */
  async revokeAllOf(userId: string, db: Db = this.#db): Promise<string[]> {
    await db
      .update(refreshTokenFamilies)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(refreshTokenFamilies.userId, userId), isNull(refreshTokenFamilies.revokedAt)));
    const recent = await db
      .select({ id: refreshTokenFamilies.id })
      .from(refreshTokenFamilies)
      .where(and(eq(refreshTokenFamilies.userId, userId), gt(refreshTokenFamilies.revokedAt, sql`now() - make_interval(secs => ${ACCESS_TOKEN_TTL_SEC})`)));
    return recent.map((row) => row.id);
  }

  async #familyOfRetired(tokenHash: string): Promise<string | undefined> {
    const [retired] = await this.#db
      .select({ familyId: retiredRefreshTokens.familyId })
      .from(retiredRefreshTokens)
      .where(eq(retiredRefreshTokens.tokenHash, tokenHash));
    return retired?.familyId;
  }

  async #revokeFamily(familyId: string): Promise<void> {
    await this.#db
      .update(refreshTokenFamilies)
      .set({ revokedAt: sql`now()` })
      .where(and(eq(refreshTokenFamilies.id, familyId), isNull(refreshTokenFamilies.revokedAt)));
  }
}
