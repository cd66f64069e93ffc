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

export type RateLimitName = 'loginIp' | 'loginAccount' | 'register' | 'forgotPassword' | 'verifyOtp' | 'resendCode' | 'createLive' | 'stageInvite' | 'editRecording' | 'recordingView' | 'report';

export interface RateLimitConfig {
  /** Prefix of the Redis keys (REDIS_URL set); counters are shared by every replica. */
  readonly namespace: string;
  readonly rules: { readonly [name in RateLimitName]: RateLimitRule };
}

export const DEFAULT_PASSWORD_HASH: PasswordHashConfig = { memoryCost: 19456, timeCost: 2, parallelism: 1 };

export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  namespace: 'podlive-rl:',
  rules: {
    loginIp: { max: 20, windowSec: 60 },
    loginAccount: { max: 10, windowSec: 15 * 60 },
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
  },
};
