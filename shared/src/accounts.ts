import { SignJWT, jwtVerify, type CryptoKey } from 'jose';
import { z } from 'zod';
import { HANDLE_PATTERN, normalizeHandle } from './handles';
import { CONTROL, lineText, removeInvisible } from './text';

/**
 * The accounts API contract (/api/auth, /api/users): request schemas used by the server to
 * validate and by the pages to pre-check, and the response shapes. Errors are always
 * `{ error: { code, message, fields? } }` (ErrorBody in ./errors).
 *
 * Behaviour the pages can rely on (server/src/features/auth, server/src/features/users):
 * - Register answers 202 `{ ok: true }` whether the email is new or already has an account (the
 *   owner of an existing account is mailed a notice instead of a code): the response never tells.
 *   409 HANDLE_TAKEN and the field errors still come first (handles are public).
 * - Login works before the email is verified (`user.emailVerified` false: show a banner), but
 *   going live (create, start), chatting, and being invited to or accepting a stage need a
 *   verified email: 403 EMAIL_NOT_VERIFIED (chat: chat_refused EMAIL_NOT_VERIFIED). Watching,
 *   following and reading stay open.
 * - Login failures are 401 INVALID_CREDENTIALS whether the email exists or not. After a few wrong
 *   passwords for an account (5 by default), each further try must wait a growing delay (1 s, 2 s,
 *   4 s … at most 30 s by default; server/src/limits.ts): earlier tries get 429 RATE_LIMITED with
 *   Retry-After, before the password is looked at. A right password clears the count.
 * - Codes: 400 OTP_INVALID (wrong; also unknown email), OTP_EXPIRED, OTP_LOCKED (the 5th wrong
 *   guess locks the code; POST /api/auth/resend-code {email, purpose} → 202 mails a new one).
 *   Per account and purpose, at most OTP_CODES_PER_WINDOW codes are mailed and
 *   OTP_FAILURES_PER_WINDOW wrong guesses (over all its codes) are allowed per
 *   OTP_ACCOUNT_WINDOW_MIN; past that every code is OTP_LOCKED, even a new one, until the window passes.
 * - Logout and password reset end the session's access tokens at once (401 on /api) and close its
 *   /ws sockets (close code WS_CLOSE_SESSION_ENDED); a reset ends every session of the user.
 * - Refresh: the token from the body or the REFRESH_COOKIE cookie (raw value, not signed);
 *   401 REFRESH_TOKEN_INVALID, or REFRESH_TOKEN_REUSED when a spent token was replayed (its whole
 *   family is revoked). Every refresh returns a new refresh token: store it. Presentations of a
 *   token while its rotation runs share that rotation (one browser's tabs and page loads).
 * - Renew (the browser's refresh): POST /api/auth/renew rotates the REFRESH_COOKIE into new
 *   ACCESS_COOKIE and REFRESH_COOKIE cookies, 204; refused like refresh, with both cookies cleared.
 *   The same cookie renewed again within 15 s gets the same new pair (tabs that still hold it).
 * - Handles: 400 VALIDATION_FAILED (pattern) or HANDLE_PROHIBITED, 409 HANDLE_TAKEN; a change of
 *   case is a handle change; 403 HANDLE_CHANGE_TOO_SOON with `fields.handleChangeAllowedAt` (ISO).
 * - A presented but invalid/expired access token is 401 UNAUTHENTICATED even on public routes.
 * - 429 RATE_LIMITED carries a Retry-After header (seconds).
 */

export const PASSWORD_MIN = 10;
/** Bounded so hashing a huge "password" can't be used to burn CPU. */
export const PASSWORD_MAX = 128;
export const OTP_LENGTH = 6;
export const OTP_TTL_MIN = 10;
export const OTP_MAX_ATTEMPTS = 5;
/** Per account and purpose: codes mailed, and wrong guesses over all codes, per window. */
export const OTP_ACCOUNT_WINDOW_MIN = 60;
export const OTP_CODES_PER_WINDOW = 5;
export const OTP_FAILURES_PER_WINDOW = 10;
export const ACCESS_TOKEN_TTL_SEC = 15 * 60;
export const REFRESH_TOKEN_TTL_DAYS = 30;
/** The refresh-token cookie, shared by the API and the web app (same origin). */
export const REFRESH_COOKIE = 'podlive_refresh';
/**
 * The access-JWT cookie (httpOnly), set by the web app at login and by POST /api/auth/renew. The
 * API reads it on /api and /ws when a request has no Authorization header; it lives as long as
 * the refresh cookie, so an expired token is still sent and answered 401, the browser's cue to renew.
 */
export const ACCESS_COOKIE = 'podlive_access';

export const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email({ message: 'Enter a valid email address' }));
export const passwordSchema = z
  .string()
  .min(PASSWORD_MIN, `Use at least ${PASSWORD_MIN} characters`)
  .max(PASSWORD_MAX, `Use at most ${PASSWORD_MAX} characters`);
export const handleSchema = z
  .string()
  .max(64)
  .transform(normalizeHandle)
  .pipe(z.string().regex(HANDLE_PATTERN, 'Use 3–30 letters, digits or underscores'));
/** Printable text on one line: invisible characters and bidi controls removed (shared/src/text.ts), no control characters. */
const line = (max: number) =>
  z
    .string()
    .transform(removeInvisible)
    .pipe(z.string().max(max, `Use at most ${max} characters`))
    .refine((s) => !CONTROL.test(s), 'Contains characters that are not allowed');
export const displayNameSchema = line(50).pipe(z.string().min(1, 'Enter a display name'));
export const bioSchema = z
  .string()
  .transform(removeInvisible)
  .pipe(z.string().max(300, 'Use at most 300 characters'))
  .refine((s) => !/(?![\t\n])\p{Cc}/u.test(s), 'Contains characters that are not allowed');
export const otpCodeSchema = z.string().trim().regex(/^\d{6}$/, 'Enter the 6-digit code');

export const registerBody = z.strictObject({ email: emailSchema, password: passwordSchema, handle: handleSchema, displayName: displayNameSchema.optional() });
export const verifyOtpBody = z.strictObject({ email: emailSchema, code: otpCodeSchema, purpose: z.literal('verify_email') });
export const loginBody = z.strictObject({ email: emailSchema, password: z.string().min(1).max(PASSWORD_MAX), rememberMe: z.boolean().optional() });
export const refreshBody = z.strictObject({ refreshToken: z.string().min(20).max(200).optional() });
export const forgotPasswordBody = z.strictObject({ email: emailSchema });
export const resetPasswordBody = z.strictObject({ email: emailSchema, code: otpCodeSchema, newPassword: passwordSchema });
/** POST /api/auth/resend-code: a fresh code (the previous one stops working). Always 202. */
export const resendCodeBody = z.strictObject({ email: emailSchema, purpose: z.enum(['verify_email', 'reset_password']) });
export const updateMeBody = z
  .strictObject({ displayName: displayNameSchema.optional(), bio: bioSchema.optional(), handle: handleSchema.optional() })
  .refine((b) => Object.keys(b).length > 0, 'Nothing to update');
export const searchQuery = z.strictObject({
  q: lineText(50).pipe(z.string().min(1)),
  page: z.coerce.number().int().min(1).max(1000).default(1),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

export type RegisterBody = z.infer<typeof registerBody>;
export type LoginBody = z.infer<typeof loginBody>;
export type ResendCodeBody = z.infer<typeof resendCodeBody>;
export type UpdateMeBody = z.infer<typeof updateMeBody>;

/** GET /api/users/:handle (and items of search results). */
export interface PublicUser {
  id: string;
  handle: string;
  displayName: string;
  avatarUrl: string | null;
  bio: string;
  followerCount: number;
  followingCount: number;
  isVerified: boolean;
  isLive: boolean;
  createdAt: string;
  /** Present when the caller is signed in. */
  isFollowing?: boolean;
}

/** The signed-in user's own view (register, verify, login, GET/PUT /api/users/me). */
export interface SelfUser extends PublicUser {
  email: string;
  emailVerified: boolean;
  /** When the handle may next be changed (null: now). */
  handleChangeAllowedAt: string | null;
}

/** POST /api/auth/register: 202, the same for a new email and one that has an account. */
export interface RegisterResponse {
  ok: true;
}

export interface LoginResponse {
  accessToken: string;
  refreshToken: string;
  user: SelfUser;
}

export interface CheckHandleResponse {
  available: boolean;
  reason?: 'invalid' | 'taken' | 'prohibited';
}

export interface Page<T> {
  items: T[];
  page: number;
  limit: number;
  hasMore: boolean;
}

/**
 * Claims of an access token (JWT, HS256, issuer podlive-server, audience podlive-api, 15 min).
 * `sid` is the sign-in session (the refresh-token family): logout and password reset put it on a
 * deny-list for the token's remaining life, so the token stops working before it expires.
 */
export const accessClaimsSchema = z.object({ sub: z.uuid(), handle: z.string(), sid: z.uuid() });
export type AccessClaims = z.infer<typeof accessClaimsSchema>;

export const ACCESS_TOKEN_ISSUER = 'podlive-server';
export const ACCESS_TOKEN_AUDIENCE = 'podlive-api';

const accessKey = (secret: string) => new TextEncoder().encode(secret);

/** Mints an access token (sent as `Authorization: Bearer <token>`). */
export async function signAccessToken(secret: string, claims: AccessClaims, ttlSec = ACCESS_TOKEN_TTL_SEC): Promise<string> {
  const parsed = accessClaimsSchema.parse(claims);
  return new SignJWT({ handle: parsed.handle, sid: parsed.sid })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(parsed.sub)
    .setIssuer(ACCESS_TOKEN_ISSUER)
    .setAudience(ACCESS_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSec}s`)
    .sign(accessKey(secret));
}

/** The claims of a valid access token; null for a forged, expired or malformed one. */
export async function verifyAccessToken(secret: string, token: string): Promise<AccessClaims | null> {
  return (await readAccessToken(accessKey(secret), token))?.claims ?? null;
}

/** The HMAC key of `secret` for readAccessToken, imported once. */
export function importAccessKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', accessKey(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']) as Promise<CryptoKey>;
}

/**
 * The claims of a valid access token and when it expires (epoch ms); null for a forged, expired
 * or malformed one. `key`: the secret's bytes, or importAccessKey's CryptoKey (a server
 * verifying every request saves WebCrypto's import of the key each time).
 */
export async function readAccessToken(key: Uint8Array | CryptoKey, token: string): Promise<{ claims: AccessClaims; expiresAt: number } | null> {
  try {
    const { payload } = await jwtVerify(token, key, {
      issuer: ACCESS_TOKEN_ISSUER,
      audience: ACCESS_TOKEN_AUDIENCE,
      algorithms: ['HS256'],
      requiredClaims: ['exp'],
    });
    const claims = accessClaimsSchema.safeParse(payload);
    return claims.success ? { claims: claims.data, expiresAt: payload.exp! * 1000 } : null;
  } catch {
    return null;
  }
}
