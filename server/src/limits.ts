/** Cost and abuse limits of the control plane, with their defaults (see config.ts). */

/** argon2id cost (OWASP's minimum by default). Only tests lower it, never the environment. */
export interface PasswordHashConfig {
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** One rate limit: at most `max` requests per `windowSec` per key (IP or account). */
export interface RateLimitRule {
  readonly max: number;
  readonly windowSec: number;
}

export type RateLimitName = 'loginIp' | 'register' | 'forgotPassword' | 'verifyOtp' | 'resendCode' | 'createLive' | 'stageInvite' | 'editRecording' | 'recordingView' | 'report' | 'mediaToken';

export interface RateLimitConfig {
  /** Prefix of the Redis keys (REDIS_URL set); counters are shared by every replica. */
  readonly namespace: string;
  readonly rules: { readonly [name in RateLimitName]: RateLimitRule };
}

/**
 * Wrong passwords per account (the email as typed, known or not): from the `freeFailures`-th on,
 * the k-th failure makes the account's next try wait min(2^(k − freeFailures), maxDelaySec)
 * seconds (429 RATE_LIMITED with Retry-After, the password not looked at).
 * A stranger can slow the owner by at most maxDelaySec after their last try, never lock them out;
 * a right password clears the count. Failures are forgotten `windowSec` after the first one.
 */
export interface LoginThrottleConfig {
  readonly freeFailures: number;
  readonly maxDelaySec: number;
  readonly windowSec: number;
}

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleConfig = { freeFailures: 5, maxDelaySec: 30, windowSec: 15 * 60 };

export const DEFAULT_PASSWORD_HASH: PasswordHashConfig = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  namespace: 'podlive-rl:',
  rules: {
    loginIp: { max: 20, windowSec: 60 },
    register: { max: 10, windowSec: 60 * 60 },
    forgotPassword: { max: 5, windowSec: 15 * 60 },
    verifyOtp: { max: 20, windowSec: 15 * 60 },
    resendCode: { max: 5, windowSec: 15 * 60 },
    createLive: { max: 20, windowSec: 60 * 60 },
    stageInvite: { max: 30, windowSec: 60 },
    /** Renaming, hiding and deleting recordings, per account. */
    editRecording: { max: 60, windowSec: 60 },
    /** A view of a recording counts once per viewer (account or address) and recording an hour. */
    recordingView: { max: 1, windowSec: 60 * 60 },
    /** Reports filed, per account (a retried report counts too). */
    report: { max: 20, windowSec: 60 * 60 },
    /**
     * Viewer media tokens, per address (signed in or not): a page asks on load and again when its
     * node fails or drains; room for a household or a venue behind one address, not for a script.
     */
    mediaToken: { max: 120, windowSec: 60 },
  },
};
