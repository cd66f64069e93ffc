import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';

/**
 * Media tokens: minted by the control plane, checked by SFU nodes. A node trusts nothing else.
 * The claims are the grant, LiveKit-style: which session, which user, which role, which node.
 * - `viewer`: may consume only.
 * - `guest`: may produce (audio, and video if `video` is granted) and consume, while the grant stands.
 * - `host`: may produce and consume, and close the room.
 * - `recorder`: the recording service; consumes through PlainTransports to an RTP address it names
 *   (createPlainConsumer) and may ask for key frames. Minted only for the recorder, never for a user.
 */
export const mediaRoles = ['host', 'guest', 'viewer', 'recorder'] as const;
export type MediaRole = (typeof mediaRoles)[number];

export const MEDIA_TOKEN_ISSUER = 'podlive-server';
export const MEDIA_TOKEN_AUDIENCE = 'podlive-sfu';
/** Long enough to open the signalling connection; a reconnect asks the server for a new one. */
export const MEDIA_TOKEN_TTL_SEC = 120;

export const mediaClaimsSchema = z.object({
  /** Live session id (the room on the node). */
  sid: z.string().min(1).max(64),
  /** User id, or `anon:<random>` for a signed-out viewer. */
  sub: z.string().min(1).max(64),
  role: z.enum(mediaRoles),
  /** The node the token is valid on. */
  node: z.string().min(1).max(64),
  /** Display name shown to the room. */
  name: z.string().max(100).optional(),
  /** Token id: guest grants carry one, and a node accepts each id once. */
  jti: z.string().max(64).optional(),
});
export type MediaClaims = z.infer<typeof mediaClaimsSchema>;

export type MediaTokenErrorReason = 'expired' | 'invalid' | 'wrong_node';

export class MediaTokenError extends Error {
  override name = 'MediaTokenError';
  constructor(readonly reason: MediaTokenErrorReason, message: string) {
    super(message);
  }
}

const key = (secret: string) => new TextEncoder().encode(secret);

export async function signMediaToken(secret: string, claims: MediaClaims, ttlSec = MEDIA_TOKEN_TTL_SEC): Promise<string> {
  const parsed = mediaClaimsSchema.parse(claims);
  if (parsed.role === 'guest' && !parsed.jti) throw new TypeError('a guest grant needs a jti (single use)');
  return new SignJWT({ ...parsed })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(MEDIA_TOKEN_ISSUER)
    .setAudience(MEDIA_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSec}s`)
    .sign(key(secret));
}

/** Verifies signature, issuer, audience, expiry, claim shapes and that the token is for `nodeId`. */
export async function verifyMediaToken(secret: string, token: string, nodeId: string): Promise<MediaClaims> {
  let payload: unknown;
  try {
    ({ payload } = await jwtVerify(token, key(secret), {
      issuer: MEDIA_TOKEN_ISSUER,
      audience: MEDIA_TOKEN_AUDIENCE,
      algorithms: ['HS256'],
    }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new MediaTokenError('expired', 'media token expired');
    throw new MediaTokenError('invalid', 'media token invalid');
  }
  const claims = mediaClaimsSchema.safeParse(payload);
  if (!claims.success) throw new MediaTokenError('invalid', 'media token claims invalid');
  if (claims.data.node !== nodeId) throw new MediaTokenError('wrong_node', `media token is for node ${claims.data.node}`);
  return claims.data;
}

/**
 * Control tokens: the control plane commanding a node over HTTP (close a room when a live ends).
 * Same key as media tokens, another audience, so a media token is never accepted as a command.
 */
export const CONTROL_TOKEN_AUDIENCE = 'podlive-sfu-control';

export async function signControlToken(secret: string, nodeId: string, ttlSec = 60): Promise<string> {
  return new SignJWT({ node: nodeId })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(MEDIA_TOKEN_ISSUER)
    .setAudience(CONTROL_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSec}s`)
    .sign(key(secret));
}

/** True when `token` is a valid control token for `nodeId`. */
export async function verifyControlToken(secret: string, token: string, nodeId: string): Promise<boolean> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { issuer: MEDIA_TOKEN_ISSUER, audience: CONTROL_TOKEN_AUDIENCE, algorithms: ['HS256'] });
    return payload.node === nodeId;
  } catch {
    return false;
  }
}
