/**
 * The one registry of coded errors every HTTP edge returns (the API, the SFU's and the recorder's
 * /control): each code has an HTTP status and a default message safe to show to a client. Routes
 * throw `new ApiError('CODE')` (or with a more precise message / per-field reasons); the server's
 * error handler turns it into `{ error: { code, message, fields? } }`, and the SFU and recorder
 * answer with `sendError`. Clients compare against `ErrorCode`, so a misspelt code fails the type-check.
 */
export const errorRegistry = {
  BAD_REQUEST: { status: 400, message: 'The request is malformed' },
  VALIDATION_FAILED: { status: 400, message: 'The request is invalid' },
  /** A 401 known only by its status (a framework's own error); our edges answer UNAUTHENTICATED. */
  UNAUTHORIZED: { status: 401, message: 'Authentication is required' },
  FORBIDDEN: { status: 403, message: 'Not allowed' },
  CROSS_SITE_REQUEST: { status: 403, message: 'Requests from other sites are not accepted' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  CONFLICT: { status: 409, message: 'Conflicts with the current state' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Unsupported content type' },
  MULTIPART_INVALID: { status: 400, message: 'The multipart body is malformed' },
  UPGRADE_REQUIRED: { status: 426, message: 'Open this path as a WebSocket' },
  RATE_LIMITED: { status: 429, message: 'Too many requests, try again later' },
  INTERNAL: { status: 500, message: 'Internal server error' },
  BAD_GATEWAY: { status: 502, message: 'An upstream service failed' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'Service unavailable, try again later' },
  GATEWAY_TIMEOUT: { status: 504, message: 'An upstream service timed out' },
  STORAGE_KEY_INVALID: { status: 400, message: 'Invalid storage key' },
  STORAGE_SIGNATURE_INVALID: { status: 403, message: 'The link is invalid' },
  STORAGE_LINK_EXPIRED: { status: 403, message: 'The link has expired' },
  // Accounts (/api/auth, /api/users).
  /**
   * A caller without a valid token: a person's access token (not signed in, or the session ended),
   * or another process's control token on every /control and /internal edge (one code for both).
   */
  UNAUTHENTICATED: { status: 401, message: 'Sign in to continue' },
  INVALID_CREDENTIALS: { status: 401, message: 'Wrong email or password' },
  REFRESH_TOKEN_INVALID: { status: 401, message: 'The session has ended, sign in again' },
  REFRESH_TOKEN_REUSED: { status: 401, message: 'The session was used elsewhere and has been ended, sign in again' },
  EMAIL_NOT_VERIFIED: { status: 403, message: 'Verify your email address first' },
  HANDLE_TAKEN: { status: 409, message: 'This handle is taken' },
  HANDLE_PROHIBITED: { status: 400, message: 'This handle is not allowed' },
  HANDLE_CHANGE_TOO_SOON: { status: 403, message: 'The handle was changed recently' },
  PASSWORD_TOO_COMMON: { status: 400, message: 'This password is too common' },
  OTP_INVALID: { status: 400, message: 'The code is wrong' },
  OTP_EXPIRED: { status: 400, message: 'The code has expired, request a new one' },
  OTP_LOCKED: { status: 400, message: 'Too many wrong codes, request a new one' },
  USER_NOT_FOUND: { status: 404, message: 'No such user' },
  CANNOT_FOLLOW_SELF: { status: 400, message: 'You cannot follow yourself' },
  AVATAR_INVALID: { status: 400, message: 'The avatar must be a JPEG, PNG, WebP or GIF image' },
  // Blocks, reports, push (features/social).
  CANNOT_BLOCK_SELF: { status: 400, message: 'You cannot block yourself' },
  FOLLOW_BLOCKED: { status: 403, message: 'You cannot follow this person' },
  REPORT_TARGET_NOT_FOUND: { status: 404, message: 'What you are reporting does not exist' },
  PUSH_SUBSCRIPTION_INVALID: { status: 400, message: 'This push subscription cannot be used' },
  // Lives (/api/live).
  LIVE_NOT_FOUND: { status: 404, message: 'No such live' },
  NOT_HOST: { status: 403, message: 'Only the host can do this' },
  LIVE_NOT_STARTED: { status: 409, message: 'The live has not started yet' },
  LIVE_ENDED: { status: 409, message: 'The live has ended' },
  ALREADY_LIVE: { status: 409, message: 'You are already live in another session' },
  THUMBNAIL_INVALID: { status: 400, message: 'The thumbnail must be a JPEG, PNG, WebP or GIF image' },
  // Stage (/api/stage).
  CANNOT_INVITE_SELF: { status: 400, message: 'You are already on your own stage' },
  NOT_WATCHING: { status: 409, message: 'This person is not watching your live' },
  ALREADY_ON_STAGE: { status: 409, message: 'This person is already on stage' },
  INVITE_PENDING: { status: 409, message: 'This person already has an invite ringing' },
  STAGE_FULL: { status: 409, message: 'The stage is full' },
  BLOCKED: { status: 403, message: 'You cannot invite this person' },
  INVITEE_BLOCKED: { status: 403, message: 'You blocked this person: unblock them to invite them' },
  INVITEE_NOT_VERIFIED: { status: 409, message: 'This person has not verified their email yet, so they cannot go on stage' },
  INVITE_NOT_FOUND: { status: 404, message: 'No such invite' },
  NOT_INVITEE: { status: 403, message: 'This invite is for someone else' },
  INVITE_ANSWERED: { status: 409, message: 'This invite was already answered' },
  INVITE_EXPIRED: { status: 409, message: 'This invite has expired' },
  NOT_ON_STAGE: { status: 409, message: 'This person is not on stage' },
  GRANT_REVOKED: { status: 409, message: 'This guest grant no longer stands: the invite ended' },
  // Recordings (/api/recordings, /internal/recordings).
  RECORDING_NOT_FOUND: { status: 404, message: 'No such recording' },
  NOT_RECORDING_OWNER: { status: 403, message: 'Only the owner of this recording can do this' },
  RECORDING_PROCESSING: { status: 409, message: 'The recording is still being processed, try again once it is ready' },
  // Chat (/api/live/:id/chat, /api/live/:id/moderators).
  CHAT_MESSAGE_NOT_FOUND: { status: 404, message: 'No such chat message in this live' },
  NOT_MODERATOR: { status: 403, message: 'Only the host or a moderator of this live can do this' },
  NOT_AUTHOR_OR_MODERATOR: { status: 403, message: 'Only the author, the host or a moderator can delete this message' },
  CANNOT_RESTRICT: { status: 403, message: 'This person cannot be timed out or banned here' },
  CANNOT_UNRESTRICT_SELF: { status: 403, message: 'Nobody can lift their own ban or timeout' },
  CANNOT_APPOINT: { status: 400, message: 'The host already moderates their own lives' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorRegistry;

/** Per-field reasons, keyed by field path (`email`, `body.handle`, `query.exp`). */
export type ErrorFields = Record<string, string>;

/** The wire shape of every error response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; fields?: ErrorFields };
}

export interface ApiErrorOptions {
  /** Replaces the registry's message; must be safe for clients. */
  message?: string;
  fields?: ErrorFields;
  cause?: unknown;
}

/** An error whose code, status and message are meant for the client. */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly fields: ErrorFields | undefined;

  constructor(code: ErrorCode, options: ApiErrorOptions = {}) {
    super(options.message ?? errorRegistry[code].message, { cause: options.cause });
    this.code = code;
    this.statusCode = errorRegistry[code].status;
    this.fields = options.fields;
  }

  toBody(): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (this.fields !== undefined) error.fields = this.fields;
    return { error };
  }
}

/** What a client can see as a failure's code: the registry's, or its own for a request that got no answer. */
export type ClientErrorCode = ErrorCode | 'NETWORK' | 'UNKNOWN';

/** The part of a Fastify reply (or any HTTP reply) `sendError` needs; keeps this module framework-free. */
interface ErrorReply<R> {
  code(status: number): { send(body: ErrorBody): R };
}

/** Answers with the registry's status and `{ error: { code, message } }` (message: the registry's unless given). */
export function sendError<R>(reply: ErrorReply<R>, code: ErrorCode, message?: string): R {
  const error = new ApiError(code, { message });
  return reply.code(error.statusCode).send(error.toBody());
}

/** The registry code used when only an HTTP status is known (Fastify's own errors, upstream failures). */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400: return 'BAD_REQUEST';
    case 401: return 'UNAUTHORIZED';
    case 403: return 'FORBIDDEN';
    case 404: return 'NOT_FOUND';
    case 405: return 'METHOD_NOT_ALLOWED';
    case 409: return 'CONFLICT';
    case 413: return 'PAYLOAD_TOO_LARGE';
    case 415: return 'UNSUPPORTED_MEDIA_TYPE';
    case 429: return 'RATE_LIMITED';
    case 502: return 'BAD_GATEWAY';
    case 503: return 'SERVICE_UNAVAILABLE';
    case 504: return 'GATEWAY_TIMEOUT';
    default: return status >= 400 && status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
  }
}
