import { databaseErrorOf, type Db, eq, equalsIgnoringCase, PgErrorCode, type User, users } from '@podlive/db';
import type { LoginBody, LoginResponse, RegisterBody, SelfUser } from '@podlive/shared/accounts';
import { signAccessToken } from '@podlive/shared/accounts';
import type { FastifyBaseLogger } from 'fastify';
import { ApiError, errorRegistry } from '../../errors';
import type { Mailer } from '../../mail';
import { assertHandleAllowed, EMAIL_UNIQUE_INDEX, HANDLE_UNIQUE_INDEX } from '../users/handles';
import { loadSelfUser } from '../users/present';
import type { CodeCheck, CodePurpose, OneTimeCodes } from './codes';
import { codeMail } from './mail';
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
}

const codeErrorCodes = { invalid: 'OTP_INVALID', expired: 'OTP_EXPIRED', locked: 'OTP_LOCKED' } as const;
const codeError = (check: Exclude<CodeCheck, 'ok'>) => {
  const code = codeErrorCodes[check];
  return new ApiError(code, { fields: { code: errorRegistry[code].message } });
};

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

  /** Mails a new code; a mail failure is logged, not fatal (the user can ask for another code). */
  async #sendCode(user: User, purpose: CodePurpose): Promise<void> {
    const code = await this.#d.codes.issue(user, purpose);
    try {
      await this.#d.mailer.send(codeMail(user.email, user.displayName, purpose, code));
    } catch (err) {
      this.#d.log.error({ err, userId: user.id, purpose }, 'sending a code failed');
    }
  }

  async register(body: RegisterBody): Promise<SelfUser> {
    assertHandleAllowed(body.handle);
    assertPasswordAcceptable(body.password);
    const passwordHash = await this.#d.hasher.hash(body.password);
    let user: User | undefined;
    try {
      [user] = await this.#d.db
        .insert(users)
        .values({ handle: body.handle, email: body.email, passwordHash, displayName: body.displayName ?? body.handle })
        .returning();
    } catch (err) {
      const dbErr = databaseErrorOf(err);
      if (dbErr?.code === PgErrorCode.uniqueViolation && dbErr.constraint === HANDLE_UNIQUE_INDEX) {
        throw new ApiError('HANDLE_TAKEN', { fields: { handle: 'This handle is taken' }, cause: err });
      }
      if (dbErr?.code === PgErrorCode.uniqueViolation && dbErr.constraint === EMAIL_UNIQUE_INDEX) {
        throw new ApiError('EMAIL_TAKEN', { fields: { email: 'An account with this email already exists' }, cause: err });
      }
      throw err;
    }
    if (user === undefined) throw new Error('insert returned no user');
    await this.#sendCode(user, 'verify_email');
    return this.#self(user.id);
  }

  async verifyEmail(email: string, code: string): Promise<SelfUser> {
    const user = await this.#findByEmail(email);
    const check = user === undefined ? 'invalid' : await this.#d.codes.check(user.id, 'verify_email', code);
    if (check !== 'ok' || user === undefined) throw codeError(check === 'ok' ? 'invalid' : check);
    await this.#d.db.update(users).set({ emailVerified: true }).where(eq(users.id, user.id));
    return this.#self(user.id);
  }

  /** Same answer (401 INVALID_CREDENTIALS, same work) for an unknown email and a wrong password. */
  async login(body: LoginBody): Promise<{ response: LoginResponse; refresh: IssuedRefreshToken }> {
    const user = await this.#findByEmail(body.email);
    if (user === undefined) {
      await this.#d.hasher.verifyDummy(body.password);
      throw new ApiError('INVALID_CREDENTIALS');
    }
    if (!(await this.#d.hasher.verify(user.passwordHash, body.password))) throw new ApiError('INVALID_CREDENTIALS');
    const refresh = await this.#d.refreshTokens.start(user.id, body.rememberMe ?? false);
    const accessToken = await signAccessToken(this.#d.accessSecret, { sub: user.id, handle: user.handle });
    return { response: { accessToken, refreshToken: refresh.token, user: await this.#self(user.id) }, refresh };
  }

  async refresh(token: string): Promise<{ accessToken: string; refresh: IssuedRefreshToken }> {
    const refresh = await this.#d.refreshTokens.rotate(token);
    const [user] = await this.#d.db.select({ handle: users.handle }).from(users).where(eq(users.id, refresh.userId));
    if (user === undefined) throw new ApiError('REFRESH_TOKEN_INVALID');
    return { accessToken: await signAccessToken(this.#d.accessSecret, { sub: refresh.userId, handle: user.handle }), refresh };
  }

  logout(token: string): Promise<void> {
    return this.#d.refreshTokens.revoke(token);
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
    await this.#d.db.transaction(async (tx) => {
      // A reset proves control of the mailbox, so it verifies the email too.
      await tx.update(users).set({ passwordHash, emailVerified: true }).where(eq(users.id, user.id));
      await this.#d.refreshTokens.revokeAllOf(user.id, tx);
    });
  }
}
