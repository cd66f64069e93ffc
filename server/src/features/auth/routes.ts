import {
  forgotPasswordBody, loginBody, refreshBody, registerBody, type RegisterResponse, resendCodeBody, resetPasswordBody, verifyOtpBody,
} from '@podlive/shared/accounts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../errors';
import { parseInput } from '../../validation';
import { checkHandle } from '../users/handles';
import { OneTimeCodes } from './codes';
import { clearAccessCookie, clearRefreshCookie, cookieIsSecure, readRefreshToken, setAccessCookie, setRefreshCookie } from './cookie';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './passwords';
import { RefreshTokens } from './refresh-tokens';
import { Rotations } from './rotations';
import { Accounts } from './service';

/** The account email of a body, normalised like the schema does; null when there is none. */
const bodyEmail = (request: FastifyRequest): string | null => {
  const email = (request.body as { email?: unknown } | null)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : null;
};

/** /api/auth: register, codes, login, refresh, logout, password reset, handle availability. */
export default async function authRoutes(app: FastifyInstance) {
  const { config } = app;
  const loginThrottle = new LoginThrottle(config.loginThrottle, app.redis, config.redisPrefix);
  const accounts = new Accounts({
    db: app.db,
    hasher: new PasswordHasher(config.passwordHash),
    codes: new OneTimeCodes(app.db, config.secrets.jwtRefresh),
    refreshTokens: new RefreshTokens(app.db),
    mailer: app.mailer,
    accessSecret: config.secrets.jwtAccess,
    log: app.log,
    loginThrottle,
    endSessions: async (userId, sessionIds) => {
      await app.endedSessions.add(sessionIds);
      await app.liveEvents.authSessionsEnded(userId, sessionIds);
    },
  });
  const rotations = new Rotations((token) => accounts.refresh(token));
  const secure = cookieIsSecure(config.publicUrl);
  const byIp = (request: FastifyRequest) => request.ip;
  const limits = {
    loginIp: app.limiter('loginIp', byIp),
    /** An account's login delay after wrong passwords (LoginThrottle): 429 with Retry-After while it runs. */
    loginDelay: async (request: FastifyRequest, reply: FastifyReply) => {
      const email = bodyEmail(request);
      const waitSec = email === null ? 0 : await loginThrottle.waitSec(email);
      if (waitSec === 0) return;
      reply.header('retry-after', waitSec);
      throw new ApiError('RATE_LIMITED', { message: `Too many wrong passwords, try again in ${waitSec} s` });
    },
    register: app.limiter('register', byIp),
    forgotPassword: app.limiter('forgotPassword', byIp),
    verifyOtp: app.limiter('verifyOtp', byIp),
    resendCode: app.limiter('resendCode', byIp),
  };

  app.post('/register', { preHandler: limits.register }, async (request, reply) => {
    await accounts.register(parseInput(registerBody, request.body));
    return reply.code(202).send({ ok: true } satisfies RegisterResponse);
  });

  app.post('/verify-otp', { preHandler: limits.verifyOtp }, async (request) => {
    const body = parseInput(verifyOtpBody, request.body);
    return { user: await accounts.verifyEmail(body.email, body.code) };
  });

  app.post('/resend-code', { preHandler: limits.resendCode }, async (request, reply) => {
    const body = parseInput(resendCodeBody, request.body);
    await accounts.resendCode(body.email, body.purpose);
    return reply.code(202).send({ ok: true });
  });

  app.post('/login', { preHandler: [limits.loginIp, limits.loginDelay] }, async (request, reply) => {
    const { response, refresh } = await accounts.login(parseInput(loginBody, request.body));
    setRefreshCookie(reply, refresh, secure);
    return response;
  });

  app.post('/refresh', async (request, reply) => {
    const body = parseInput(refreshBody, request.body);
    const token = readRefreshToken(request, body.refreshToken);
    if (token === undefined) throw new ApiError('REFRESH_TOKEN_INVALID', { message: 'No refresh token was sent' });
    try {
      const { accessToken, refresh } = await rotations.of(token, { remember: false });
      setRefreshCookie(reply, refresh, secure);
      return { accessToken, refreshToken: refresh.token };
    } catch (err) {
      clearRefreshCookie(reply, secure);
      throw err;
    }
  });

  /**
   * The browser's own refresh: the refresh cookie is rotated into new access and refresh cookies
   * (204, no token in the body for page scripts to read). Refused (no cookie, expired, revoked,
   * reused): both cookies are cleared, so the page's retry goes out signed out. Cross-site POSTs
   * never get here (api-security.ts).
   */
  app.post('/renew', async (request, reply) => {
    const token = readRefreshToken(request, undefined);
    try {
      if (token === undefined) throw new ApiError('REFRESH_TOKEN_INVALID', { message: 'No refresh cookie was sent' });
      const { accessToken, refresh } = await rotations.of(token, { remember: true });
      setRefreshCookie(reply, refresh, secure);
      setAccessCookie(reply, accessToken, refresh, secure);
      return await reply.code(204).send();
    } catch (err) {
      clearRefreshCookie(reply, secure);
      clearAccessCookie(reply, secure);
      throw err;
    }
  });

  app.post('/logout', async (request, reply) => {
    const token = readRefreshToken(request, parseInput(refreshBody, request.body).refreshToken);
    if (token !== undefined) await accounts.logout(token);
    clearRefreshCookie(reply, secure);
    return reply.code(204).send();
  });

  app.post('/forgot-password', { preHandler: limits.forgotPassword }, async (request, reply) => {
    await accounts.forgotPassword(parseInput(forgotPasswordBody, request.body).email);
    return reply.code(202).send({ ok: true });
  });

  app.post('/reset-password', { preHandler: limits.verifyOtp }, async (request) => {
    const body = parseInput(resetPasswordBody, request.body);
    await accounts.resetPassword(body.email, body.code, body.newPassword);
    return { ok: true };
  });

  app.get<{ Params: { handle: string } }>('/check-handle/:handle', async (request) => checkHandle(app.db, request.params.handle));
}
