import { ACCESS_COOKIE, REFRESH_COOKIE, REFRESH_TOKEN_TTL_DAYS } from '@podlive/shared/accounts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IssuedRefreshToken } from './refresh-tokens';

/** Secure everywhere except on a localhost origin (plain-HTTP development). */
export function cookieIsSecure(publicUrl: string): boolean {
  const { hostname } = new URL(publicUrl);
  return !(hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]' || hostname.endsWith('.localhost'));
}

/**
 * The refresh token as an httpOnly, SameSite=Lax cookie on `/`. With "remember me" it has a
 * Max-Age of REFRESH_TOKEN_TTL_DAYS; without, it has none and dies with the browser session.
 * Not signed, on purpose: the value is itself a 256-bit secret checked against its hash in the
 * database (a forged value gets nowhere), and the web app's server sets this same cookie with the
 * raw token from a login response, so both writers must agree on the raw form.
 */
export function setRefreshCookie(reply: FastifyReply, issued: IssuedRefreshToken, secure: boolean): void {
  reply.setCookie(REFRESH_COOKIE, issued.token, {
    path: '/',
    httpOnly: true,
    secure,
    sameSite: 'lax',
    ...(issued.rememberMe ? { maxAge: REFRESH_TOKEN_TTL_DAYS * 24 * 60 * 60 } : {}),
  });
}

/**
 * The access JWT as an httpOnly, SameSite=Lax cookie that lives as long as the refresh cookie (the
 * JWT inside expires sooner: an expired one is answered 401, and the page renews). The web app
 * writes the same cookie at login (web/src/lib/server/session.ts).
 */
export function setAccessCookie(reply: FastifyReply, accessToken: string, issued: IssuedRefreshToken, secure: boolean): void {
  reply.setCookie(ACCESS_COOKIE, accessToken, {
    path: '/',
    httpOnly: true,
    secure,
    sameSite: 'lax',
    ...(issued.rememberMe ? { maxAge: REFRESH_TOKEN_TTL_DAYS * 24 * 60 * 60 } : {}),
  });
}

export function clearRefreshCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(REFRESH_COOKIE, { path: '/', httpOnly: true, secure, sameSite: 'lax' });
}

export function clearAccessCookie(reply: FastifyReply, secure: boolean): void {
  reply.clearCookie(ACCESS_COOKIE, { path: '/', httpOnly: true, secure, sameSite: 'lax' });
}

/** The refresh token from the body, else from the cookie; undefined when neither has one. */
export function readRefreshToken(request: FastifyRequest, fromBody: string | undefined): string | undefined {
  return fromBody ?? request.cookies[REFRESH_COOKIE];
}
