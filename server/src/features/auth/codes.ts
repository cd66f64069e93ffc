import { and, type Db, desc, eq, gt, isNull, lt, oneTimeCodes, sql } from '@podlive/db';
import {
  OTP_ACCOUNT_WINDOW_MIN, OTP_CODES_PER_WINDOW, OTP_FAILURES_PER_WINDOW, OTP_LENGTH, OTP_MAX_ATTEMPTS, OTP_TTL_MIN,
} from '@podlive/shared/accounts';
import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';

export type CodePurpose = 'verify_email' | 'reset_password';

/** Why a code was refused; `ok` means it was right and is now used up. */
export type CodeCheck = 'ok' | 'invalid' | 'expired' | 'locked';

/**
 * Six-digit codes mailed to users. Only an HMAC of the code is stored (keyed with a server secret,
 * so a leaked table can't be brute-forced offline). A code lives OTP_TTL_MIN minutes; the
 * OTP_MAX_ATTEMPTS-th wrong guess locks it, after which even the right code is refused until a
 * new one is issued. Issuing a code retires the user's earlier codes of the same purpose.
 *
 * Per account and purpose, over the last OTP_ACCOUNT_WINDOW_MIN: at most OTP_CODES_PER_WINDOW
 * codes are issued, and OTP_FAILURES_PER_WINDOW wrong guesses over all of them lock every code
 * (a new code brings no fresh guesses). Counted from the codes' own rows, so every replica agrees.
 */
export class OneTimeCodes {
  readonly #db: Db;
  readonly #secret: string;

  constructor(db: Db, secret: string) {
    this.#db = db;
    this.#secret = secret;
  }

  #hash(code: string): string {
    return createHmac('sha256', this.#secret).update(`otp:${code}`).digest('base64url');
  }

  /** The user's codes of `purpose` issued within the account window. */
  #recent(userId: string, purpose: CodePurpose) {
    return and(
      eq(oneTimeCodes.userId, userId),
      eq(oneTimeCodes.purpose, purpose),
      gt(oneTimeCodes.createdAt, sql`now() - make_interval(mins => ${OTP_ACCOUNT_WINDOW_MIN})`),
    );
  }

  /** Codes issued and wrong guesses made in the account window. */
  async #windowUse(userId: string, purpose: CodePurpose, db: Db): Promise<{ issued: number; failures: number }> {
    const [use] = await db
      .select({ issued: sql<number>`count(*)::int`, failures: sql<number>`coalesce(sum(${oneTimeCodes.attempts}), 0)::int` })
      .from(oneTimeCodes)
      .where(this.#recent(userId, purpose));
    return use ?? { issued: 0, failures: 0 };
  }

  /**
   * A new code for the user (returned to be mailed); earlier unused codes stop working. Null, and
   * nothing changes, once the account's codes for the window are spent.
   */
  async issue(user: { id: string; email: string }, purpose: CodePurpose, db: Db = this.#db): Promise<string | null> {
    const use = await this.#windowUse(user.id, purpose, db);
    if (use.issued >= OTP_CODES_PER_WINDOW) return null;
    const code = randomInt(0, 10 ** OTP_LENGTH).toString().padStart(OTP_LENGTH, '0');
    await db
      .update(oneTimeCodes)
      .set({ consumedAt: sql`now()` })
      .where(and(eq(oneTimeCodes.userId, user.id), eq(oneTimeCodes.purpose, purpose), isNull(oneTimeCodes.consumedAt)));
    await db.insert(oneTimeCodes).values({
      userId: user.id,
      email: user.email,
      purpose,
      codeHash: this.#hash(code),
      expiresAt: sql`now() + make_interval(mins => ${OTP_TTL_MIN})`,
    });
    return code;
  }

  /**
   * Checks `code` against the user's current code. A right code is consumed (only once, even
   * under concurrent calls); a wrong one counts an attempt, atomically, whatever the caller does next.
   */
  async check(userId: string, purpose: CodePurpose, code: string, db: Db = this.#db): Promise<CodeCheck> {
    const { failures } = await this.#windowUse(userId, purpose, db);
    if (failures >= OTP_FAILURES_PER_WINDOW) return 'locked';
    const [current] = await db
      .select()
      .from(oneTimeCodes)
      .where(and(eq(oneTimeCodes.userId, userId), eq(oneTimeCodes.purpose, purpose), isNull(oneTimeCodes.consumedAt)))
      .orderBy(desc(oneTimeCodes.createdAt))
      .limit(1);
    if (current === undefined) return 'invalid';
    if (current.attempts >= OTP_MAX_ATTEMPTS) return 'locked';
    if (current.expiresAt.getTime() <= Date.now()) return 'expired';
    const usable = and(eq(oneTimeCodes.id, current.id), isNull(oneTimeCodes.consumedAt), lt(oneTimeCodes.attempts, OTP_MAX_ATTEMPTS));
    const expected = Buffer.from(current.codeHash);
    const given = Buffer.from(this.#hash(code));
    if (expected.length === given.length && timingSafeEqual(expected, given)) {
      const consumed = await db.update(oneTimeCodes).set({ consumedAt: sql`now()` }).where(usable).returning({ id: oneTimeCodes.id });
      return consumed.length === 1 ? 'ok' : 'locked';
    }
    const [counted] = await db
      .update(oneTimeCodes)
      .set({ attempts: sql`${oneTimeCodes.attempts} + 1` })
      .where(usable)
      .returning({ attempts: oneTimeCodes.attempts });
    const spent = counted === undefined || counted.attempts >= OTP_MAX_ATTEMPTS || failures + 1 >= OTP_FAILURES_PER_WINDOW;
    return spent ? 'locked' : 'invalid';
  }
}
