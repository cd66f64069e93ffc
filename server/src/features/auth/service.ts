import { databaseErrorOf, type Db, eq, equalsIgnoringCase, or, PgErrorCode, type User, users } from '@podlive/db';
import type { LoginBody, LoginResponse, RegisterBody, SelfUser } from '@podlive/shared/accounts';
import { signAccessToken } from '@podlive/shared/accounts';
import { handleSkeleton } from '@podlive/shared/handles';
import type { FastifyBaseLogger } from 'fastify';
import { ApiError, errorRegistry } from '../../errors';
import type { Mailer } from '../../mail';
import { assertHandleAllowed, EMAIL_UNIQUE_INDEX, isHandleTaken } from '../users/handles';
import { loadSelfUser } from '../users/present';
import type { CodeCheck, CodePurpose, OneTimeCodes } from './codes';
import type { LoginThrottle } from './login-throttle';
import type { MailMessage } from '../../mail';
import { accountExistsMail, codeMail } from './mail';
import { isCommonPassword, type PasswordHasher } from './passwords';
import type { IssuedRefreshToken, RefreshTokens } from './refresh-tokens';

export interface AccountsDeps {
  db: Db;
  hasher: PasswordHasher;
  codes: OneTimeCodes;
  refreshTokens: RefreshTokens;
  mailer: Mailer;
  accessSecret: string;
  log: FastifyBaseLogger;
  loginThrottle: LoginThrottle;
  /** Ends sign-in sessions now: their access tokens are refused and their /ws sockets close, on every replica. */
  endSessions: (userId: string, sessionIds: string[]) => Promise<void>;
}

const codeErrorCodes = { invalid: 'OTP_INVALID', expired: 'OTP_EXPIRED', locked: 'OTP_LOCKED' } as const;
const codeError = (check: Exclude<CodeCheck, 'ok'>) => {
  const code = codeErrorCodes[check];
  return new ApiError(code, { fields: { code: errorRegistry[code].message } });
};

const handleTaken = (cause?: unknown) => new ApiError('HANDLE_TAKEN', { fields: { handle: 'This handle is taken' }, ...(cause === undefined ? {} : { cause }) });

function assertPasswordAcceptable(password: string, field = 'password'): void {
  if (isCommonPassword(password)) throw new ApiError('PASSWORD_TOO_COMMON', { fields: { [field]: 'This password is too common, choose another' } });
}

/** Registration, email codes, login, token refresh and password reset. */
export class Accounts {
  readonly #d: AccountsDeps;

  constructor(deps: AccountsDeps) {
    this.#d = deps;
  }

  async #findByEmail(email: string): Promise<User | undefined> {
    const [user] = await this.#d.db.select().from(users).where(equalsIgnoringCase(users.email, email)).limit(1);
    return user;
  }

  async #self(userId: string): Promise<SelfUser> {
    const self = await loadSelfUser(this.#d.db, userId);
    if (self === undefined) throw new ApiError('UNAUTHENTICATED');
    return self;
  }

  /** Sends a mail; a failure is logged, not fatal (the user can ask for another code). */
  async #mail(user: User, message: MailMessage, what: string): Promise<void> {
    try {
      await this.#d.mailer.send(message);
    } catch (err) {
      this.#d.log.error({ err, userId: user.id }, `sending ${what} failed`);
    }
  }

  /** Mails a new code, unless the account's codes for the window are spent (then silently none). */
  async #sendCode(user: User, purpose: CodePurpose): Promise<void> {
    const code = await this.#d.codes.issue(user, purpose);
    if (code === null) {
      this.#d.log.info({ userId: user.id, purpose }, 'code not sent: the account asked for too many');
      return;
    }
    await this.#mail(user, codeMail(user.email, user.displayName, purpose, code), 'a code');
  }

  /**
   * Creates the account and mails its verification code. An email that already has an account
   * gets the same answer (the caller sends 202 either way, after the same checks in the same
   * order) and its owner is mailed a notice instead: registering never tells who has an account.
   */
  async register(body: RegisterBody): Promise<void> {
    assertHandleAllowed(body.handle);
    assertPasswordAcceptable(body.password);
    const passwordHash = await this.#d.hasher.hash(body.password);
    const existing = await this.#findByEmail(body.email);
    if (existing !== undefined) return this.#registeredAgain(existing, body.handle);
    let user: User | undefined;
    try {
      [user] = await this.#d.db
        .insert(users)
        .values({ handle: body.handle, handleSkeleton: handleSkeleton(body.handle), email: body.email, passwordHash, displayName: body.displayName ?? body.handle })
        .returning();
    } catch (err) {
      const dbErr = databaseErrorOf(err);
      if (isHandleTaken(dbErr)) throw handleTaken(err);
      if (dbErr?.code === PgErrorCode.uniqueViolation && dbErr.constraint === EMAIL_UNIQUE_INDEX) {
        // Registered by someone else a moment ago: answered like any existing email.
        const raced = await this.#findByEmail(body.email);
        if (raced !== undefined) return this.#registeredAgain(raced, body.handle);
      }
      throw err;
    }
    if (user === undefined) throw new Error('insert returned no user');
    await this.#sendCode(user, 'verify_email');
  }

  /** Registration with an existing account's email: the handle is checked as for a new account, then the owner is told. */
  async #registeredAgain(owner: User, handle: string): Promise<void> {
    const [taken] = await this.#d.db
      .select({ id: users.id })
      .from(users)
      .where(or(equalsIgnoringCase(users.handle, handle), eq(users.handleSkeleton, handleSkeleton(handle))))
      .limit(1);
    if (taken !== undefined) throw handleTaken();
    await this.#mail(owner, accountExistsMail(owner.email, owner.displayName), 'an account notice');
  }

  async verifyEmail(email: string, code: string): Promise<SelfUser> {
    const user = await this.#findByEmail(email);
    const check = user === undefined ? 'invalid' : await this.#d.codes.check(user.id, 'verify_email', code);
    if (check !== 'ok' || user === undefined) throw codeError(check === 'ok' ? 'invalid' : check);
    await this.#d.db.update(users).set({ emailVerified: true }).where(eq(users.id, user.id));
    return this.#self(user.id);
  }

  /**
   * Same answer (401 INVALID_CREDENTIALS, same work) for an unknown email and a wrong password;
   * both count towards the account's login delay (LoginThrottle; the route refuses tries made
   * during the delay before calling this).
   */
  async login(body: LoginBody): Promise<{ response: LoginResponse; refresh: IssuedRefreshToken }> {
    const { loginThrottle } = this.#d;
    const user = await this.#findByEmail(body.email);
    const right = user === undefined ? await this.#d.hasher.verifyDummy(body.password).then(() => false) : await this.#d.hasher.verify(user.passwordHash, body.password);
    if (user === undefined || !right) {
      await loginThrottle.failed(body.email);
      throw new ApiError('INVALID_CREDENTIALS');
    }
    await loginThrottle.succeeded(body.email);
    const refresh = await this.#d.refreshTokens.start(user.id, body.rememberMe ?? false);
    const accessToken = await signAccessToken(this.#d.accessSecret, { sub: user.id, handle: user.handle, sid: refresh.familyId });
    return { response: { accessToken, refreshToken: refresh.token, user: await this.#self(user.id) }, refresh };
  }

  async refresh(token: string): Promise<{ accessToken: string; refresh: IssuedRefreshToken }> {
    const refresh = await this.#d.refreshTokens.rotate(token);
    const [user] = await this.#d.db.select({ handle: users.handle }).from(users).where(eq(users.id, refresh.userId));
    if (user === undefined) throw new ApiError('REFRESH_TOKEN_INVALID');
    return { accessToken: await signAccessToken(this.#d.accessSecret, { sub: refresh.userId, handle: user.handle, sid: refresh.familyId }), refresh };
  }

  /** Ends the session of `token`: its refresh family is revoked, its access tokens and /ws sockets stop now. */
  async logout(token: string): Promise<void> {
    const ended = await this.#d.refreshTokens.revoke(token);
    if (ended !== undefined) await this.#d.endSessions(ended.userId, [ended.familyId]);
  }

  /** Sends a reset code when the account exists; the caller answers 202 either way. */
  async forgotPassword(email: string): Promise<void> {
    const user = await this.#findByEmail(email);
    if (user !== undefined) await this.#sendCode(user, 'reset_password');
  }

  /** A fresh code of `purpose` (verify_email only while unverified); silent for unknown emails. */
  async resendCode(email: string, purpose: CodePurpose): Promise<void> {
    const user = await this.#findByEmail(email);
    if (user === undefined || (purpose === 'verify_email' && user.emailVerified)) return;
    await this.#sendCode(user, purpose);
  }

  /** Sets the new password and ends every session of the user (all refresh-token families). */
  async resetPassword(email: string, code: string, newPassword: string): Promise<void> {
    assertPasswordAcceptable(newPassword, 'newPassword');
    const user = await this.#findByEmail(email);
    const check = user === undefined ? 'invalid' : await this.#d.codes.check(user.id, 'reset_password', code);
    if (check !== 'ok' || user === undefined) throw codeError(check === 'ok' ? 'invalid' : check);
    const passwordHash = await this.#d.hasher.hash(newPassword);
    const ended = await this.#d.db.transaction(async (tx) => {
      // A reset proves control of the mailbox, so it verifies the email too.
      await tx.update(users).set({ passwordHash, emailVerified: true }).where(eq(users.id, user.id));
      return this.#d.refreshTokens.revokeAllOf(user.id, tx);
    });
    await this.#d.endSessions(user.id, ended);
  }
}
