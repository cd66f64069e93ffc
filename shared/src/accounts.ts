import { z } from 'zod';
import { HANDLE_PATTERN, normalizeHandle } from './handles';

/**
 * The accounts API contract (/api/auth, /api/users): request schemas used by the server to
 * validate and by the pages to pre-check, and the response shapes. Errors are always
 * `{ error: { code, message, fields? } }` (see ApiErrorBody).
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
  .refine((s) => !/[\u0000-\u0008\u000B-\u001F\u007F\u202A-\u202E\u2066-\u2069]/.test(s), 'Contains characters that are not allowed');
export const otpCodeSchema = z.string().trim().regex(/^\d{6}$/, 'Enter the 6-digit code');

export const registerBody = z.strictObject({ email: emailSchema, password: passwordSchema, handle: handleSchema, displayName: displayNameSchema.optional() });
export const verifyOtpBody = z.strictObject({ email: emailSchema, code: otpCodeSchema, purpose: z.literal('verify_email') });
export const loginBody = z.strictObject({ email: emailSchema, password: z.string().min(1).max(PASSWORD_MAX), rememberMe: z.boolean().optional() });
export const refreshBody = z.strictObject({ refreshToken: z.string().min(20).max(200).optional() });
export const forgotPasswordBody = z.strictObject({ email: emailSchema });
export const resetPasswordBody = z.strictObject({ email: emailSchema, code: otpCodeSchema, newPassword: passwordSchema });
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
