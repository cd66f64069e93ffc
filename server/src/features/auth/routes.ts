import {
  forgotPasswordBody, loginBody, refreshBody, registerBody, resendCodeBody, resetPasswordBody, verifyOtpBody,
} from '@podlive/shared/accounts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../errors';
import { parseInput } from '../../validation';
import { checkHandle } from '../users/handles';
import { OneTimeCodes } from './codes';
import { clearRefreshCookie, cookieIsSecure, readRefreshToken, setRefreshCookie } from './cookie';
import { PasswordHasher } from './passwords';
import { RefreshTokens } from './refresh-tokens';
import { Accounts } from './service';

/** The account email of a body, normalised like the schema does; null when there is none. */
const bodyEmail = (request: FastifyRequest): string | null => {
  const email = (request.body as { email?: unknown } | null)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : null;
};

/** /api/auth: register, codes, login, refresh, logout, password reset, handle availability. */
export default async function authRoutes(app: FastifyInstance) {
  const { config } = app;
  const accounts = new Accounts({
    db: app.db,
    hasher: new PasswordHasher(config.passwordHash),
    codes: new OneTimeCodes(app.db, config.secrets.jwtRefresh),
    refreshTokens: new RefreshTokens(app.db),
    mailer: app.mailer,
    accessSecret: config.secrets.jwtAccess,
    log: app.log,
  });
  const secure = cookieIsSecure(config.publicUrl);
  const byIp = (request: FastifyRequest) => request.ip;
  const limits = {
    loginIp: app.limiter('loginIp', byIp),
    loginAccount: app.limiter('loginAccount', bodyEmail),
    register: app.limiter('register', byIp),
    forgotPassword: app.limiter('forgotPassword', byIp),
    verifyOtp: app.limiter('verifyOtp', byIp),
    resendCode: app.limiter('resendCode', byIp),
  };

  app.post('/register', { preHandler: limits.register }, async (request, reply) => {
    const user = await accounts.register(parseInput(registerBody, request.body));
    return reply.code(201).send({ user });
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

  app.post('/login', { preHandler: [limits.loginIp, limits.loginAccount] }, async (request, reply) => {
    const { response, refresh } = await accounts.login(parseInput(loginBody, request.body));
    setRefreshCookie(reply, refresh, secure);
    return response;
  });

  app.post('/refresh', async (request, reply) => {
    const body = parseInput(refreshBody, request.body);
    const token = readRefreshToken(request, body.refreshToken);
    if (token === undefined) throw new ApiError('REFRESH_TOKEN_INVALID', { message: 'No refresh token was sent' });
    try {
      const { accessToken, refresh } = await accounts.refresh(token);
      setRefreshCookie(reply, refresh, secure);
      return { accessToken, refreshToken: refresh.token };
    } catch (err) {
      clearRefreshCookie(reply, secure);
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
