import { SignJWT, jwtVerify } from 'jose';
import { z } from 'zod';
import { HANDLE_PATTERN, normalizeHandle } from './handles';

/**
 * The accounts API contract (/api/auth, /api/users): request schemas used by the server to
 * validate and by the pages to pre-check, and the response shapes. Errors are always
 * `{ error: { code, message, fields? } }` (see ApiErrorBody).
 *
 * Behaviour the pages can rely on (server/src/features/auth, server/src/features/users):
 * - Login works before the email is verified (`user.emailVerified` false: show a banner).
 * - Login failures are 401 INVALID_CREDENTIALS whether the email exists or not.
 * - Codes: 400 OTP_INVALID (wrong; also unknown email), OTP_EXPIRED, OTP_LOCKED (the 5th wrong
 *   guess locks the code; POST /api/auth/resend-code {email, purpose} → 202 mails a new one).
 * - Refresh: the token from the body or the REFRESH_COOKIE cookie (raw value, not signed);
 *   401 REFRESH_TOKEN_INVALID, or REFRESH_TOKEN_REUSED when a spent token was replayed (its whole
 *   family is revoked). Every refresh returns a new refresh token: store it.
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
export const ACCESS_TOKEN_TTL_SEC = 15 * 60;
export const REFRESH_TOKEN_TTL_DAYS = 30;
/** The refresh-token cookie, shared by the API and the web app (same origin). */
export const REFRESH_COOKIE = 'podlive_refresh';

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
/** Printable text on one line: no control characters, no bidi overrides, trimmed. */
const line = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `Use at most ${max} characters`)
    .refine((s) => !/[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(s), 'Contains characters that are not allowed');
export const displayNameSchema = line(50).pipe(z.string().min(1, 'Enter a display name'));
export const bioSchema = z
  .string()
  .trim()
  .max(300, 'Use at most 300 characters')
  .refine((s) => !/(?![\t\n])[\p{Cc}\u202A-\u202E\u2066-\u2069]/u.test(s), 'Contains characters that are not allowed');
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
  q: z.string().trim().min(1).max(50),
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

export interface ApiErrorBody {
  error: { code: string; message: string; fields?: Record<string, string> };
}

/** Claims of an access token (JWT, HS256, issuer podlive-server, audience podlive-api, 15 min). */
export const accessClaimsSchema = z.object({ sub: z.uuid(), handle: z.string() });
export type AccessClaims = z.infer<typeof accessClaimsSchema>;

export const ACCESS_TOKEN_ISSUER = 'podlive-server';
export const ACCESS_TOKEN_AUDIENCE = 'podlive-api';

const accessKey = (secret: string) => new TextEncoder().encode(secret);

/** Mints an access token (sent as `Authorization: Bearer <token>`). */
export async function signAccessToken(secret: string, claims: AccessClaims, ttlSec = ACCESS_TOKEN_TTL_SEC): Promise<string> {
  const parsed = accessClaimsSchema.parse(claims);
  return new SignJWT({ handle: parsed.handle })
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
  try {
    const { payload } = await jwtVerify(token, accessKey(secret), {
      issuer: ACCESS_TOKEN_ISSUER,
      audience: ACCESS_TOKEN_AUDIENCE,
      algorithms: ['HS256'],
    });
    const claims = accessClaimsSchema.safeParse(payload);
    return claims.success ? claims.data : null;
  } catch {
    return null;
  }
}
