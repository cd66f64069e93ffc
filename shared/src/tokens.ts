import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { z } from 'zod';
import { devSecret } from './env';

/**
 * Media tokens: minted by the control plane, checked by SFU nodes. A node trusts nothing else.
 * The claims are the grant, LiveKit-style: which session, which user, which role, which node.
 * - `viewer`: may consume only.
 * - `guest`: may produce (audio, and video if `video` is granted) and consume, while the grant stands.
 * - `host`: may produce and consume, and close the room.
 * - `recorder`: the recording service; consumes through PlainTransports to an RTP address it names
 *   (createPlainConsumer) and may ask for key frames. Minted only for the recorder, never for a user.
 *
 * Every token is signed with an asymmetric key (EdDSA over Ed25519, or ES256 over P-256): the
 * control plane alone holds the private key (MEDIA_TOKEN_PRIVATE_KEY); nodes and the recorder hold
 * only the public one (MEDIA_TOKEN_PUBLIC_KEY), so none of them can mint a token.
 */
export const mediaRoles = ['host', 'guest', 'viewer', 'recorder'] as const;
export type MediaRole = (typeof mediaRoles)[number];

export const MEDIA_TOKEN_ISSUER = 'podlive-server';
export const MEDIA_TOKEN_AUDIENCE = 'podlive-sfu';
/** Long enough to open the signalling connection; a reconnect asks the server for a new one. */
export const MEDIA_TOKEN_TTL_SEC = 120;

/** A private key that signs tokens (only the control plane has one). */
export type TokenSigningKey = KeyObject & { readonly type: 'private' };
/** A public key that verifies them. */
export type TokenVerifyingKey = KeyObject & { readonly type: 'public' };

type Alg = 'EdDSA' | 'ES256';

/** The one JWS algorithm a key is used with; any other key kind is refused. */
function algOf(key: KeyObject): Alg {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new TypeError('a media token key must be Ed25519 (EdDSA) or P-256 (ES256)');
}

/** PEM text, or a JWK as JSON: node:crypto reads either. */
function keyInput(text: string) {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let jwk: unknown;
    try {
      jwk = JSON.parse(trimmed);
    } catch {
      throw new TypeError('not a PEM key nor a JWK (JSON did not parse)');
    }
    return { jwk: jwk as Record<string, unknown>, input: { key: jwk as never, format: 'jwk' as const } };
  }
  return { jwk: undefined, input: { key: trimmed, format: 'pem' as const } };
}

/** MEDIA_TOKEN_PRIVATE_KEY: a PKCS#8 PEM or a private JWK (Ed25519 or P-256). Throws TypeError. */
export function parsePrivateKey(text: string): TokenSigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(keyInput(text).input);
  } catch (err) {
    throw new TypeError(`not a private key (PKCS#8 PEM or JWK): ${(err as Error).message}`);
  }
  algOf(key);
  return key as TokenSigningKey;
}

/**
 * MEDIA_TOKEN_PUBLIC_KEY: an SPKI PEM or a public JWK. A private key is refused even though its
 * public half could be derived: a process given this variable must not be able to sign.
 */
export function parsePublicKey(text: string): TokenVerifyingKey {
  const { jwk, input } = keyInput(text);
  if (jwk ? 'd' in jwk : /PRIVATE KEY/.test(text)) throw new TypeError('this is a private key: give only the public key');
  let key: KeyObject;
  try {
    key = createPublicKey(input);
  } catch (err) {
    throw new TypeError(`not a public key (SPKI PEM or JWK): ${(err as Error).message}`);
  }
  algOf(key);
  return key as TokenVerifyingKey;
}

/**
 * A configuration variable holding a key (PEM or JWK), parsed at start-up: unset is undefined, a
 * bad one is an issue on that variable (so parseEnv's ConfigError names it).
 */
function keyVariable<K>(parse: (text: string) => K) {
  return z.string().trim().min(1).optional().transform((text, ctx) => {
    if (text === undefined) return undefined;
    try {
      return parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

/** MEDIA_TOKEN_PRIVATE_KEY (the control plane) and MEDIA_TOKEN_PUBLIC_KEY (nodes, the recorder). */
export const keyVariables = { privateKey: keyVariable(parsePrivateKey), publicKey: keyVariable(parsePublicKey) };

export const publicKeyOf = (key: TokenSigningKey): TokenVerifyingKey => createPublicKey(key) as TokenVerifyingKey;

export const publicKeyPem = (key: TokenVerifyingKey | TokenSigningKey): string =>
  (key.type === 'private' ? publicKeyOf(key) : key).export({ type: 'spki', format: 'pem' }).toString();

/** A new Ed25519 key pair as PEM text (PKCS#8 private, SPKI public). */
export function generateTokenKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('ed25519', {
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
}

/**
 * The development key pair of a data directory, generated once into `<dataDir>/secrets/`
 * (see devSecret): the control plane reads the private file, nodes and the recorder only the
 * public one (written beside it, so they never need to read the private key).
 */
export const devPrivateKey = (dataDir: string): TokenSigningKey =>
  parsePrivateKey(devSecret(dataDir, 'MEDIA_TOKEN_PRIVATE_KEY', () => generateTokenKeyPair().privateKey));

export const devPublicKey = (dataDir: string): TokenVerifyingKey =>
  parsePublicKey(devSecret(dataDir, 'MEDIA_TOKEN_PUBLIC_KEY', () => publicKeyPem(devPrivateKey(dataDir))));

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
  /** Token id: guest grants carry one (the id of their stage invite), and a node accepts each id once. */
  jti: z.string().max(64).optional(),
  /** When the token was signed (seconds since the epoch; set by signMediaToken, read back on verify). */
  iat: z.number().int().nonnegative().optional(),
});
export type MediaClaims = z.infer<typeof mediaClaimsSchema>;

export type MediaTokenErrorReason = 'expired' | 'invalid' | 'wrong_node';

export class MediaTokenError extends Error {
  override name = 'MediaTokenError';
  constructor(readonly reason: MediaTokenErrorReason, message: string) {
    super(message);
  }
}

function sign(key: TokenSigningKey, payload: Record<string, unknown>, audience: string, ttlSec: number): Promise<string> {
  return new SignJWT(payload)
    .setProtectedHeader({ alg: algOf(key) })
    .setIssuer(MEDIA_TOKEN_ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSec}s`)
    .sign(key);
}

/** The payload of a token this key signed for `audience`; only the key's own algorithm is accepted (never HS256, never `none`). */
async function verified(key: TokenVerifyingKey, token: string, audience: string): Promise<Record<string, unknown>> {
  if (key.type !== 'public') throw new TypeError('tokens are verified with a public key');
  const { payload } = await jwtVerify(token, key, { issuer: MEDIA_TOKEN_ISSUER, audience, algorithms: [algOf(key)] });
  return payload;
}

export async function signMediaToken(key: TokenSigningKey, claims: MediaClaims, ttlSec = MEDIA_TOKEN_TTL_SEC): Promise<string> {
  const parsed = mediaClaimsSchema.parse(claims);
  if (parsed.role === 'guest' && !parsed.jti) throw new TypeError('a guest grant needs a jti (single use)');
  return sign(key, { ...parsed }, MEDIA_TOKEN_AUDIENCE, ttlSec);
}

/**
 * Verifies signature, issuer, audience, expiry, claim shapes and that the token is for `nodeId`
 * (`nodeId` null: any node, for the control plane reading back a token it minted).
 */
export async function verifyMediaToken(key: TokenVerifyingKey, token: string, nodeId: string | null): Promise<MediaClaims> {
  let payload: unknown;
  try {
    payload = await verified(key, token, MEDIA_TOKEN_AUDIENCE);
  } catch (err) {
    if (err instanceof TypeError) throw err; // a programming error (not a public key), not a bad token
    if (err instanceof joseErrors.JWTExpired) throw new MediaTokenError('expired', 'media token expired');
    throw new MediaTokenError('invalid', 'media token invalid');
  }
  const claims = mediaClaimsSchema.safeParse(payload);
  if (!claims.success) throw new MediaTokenError('invalid', 'media token claims invalid');
  if (nodeId !== null && claims.data.node !== nodeId) throw new MediaTokenError('wrong_node', `media token is for node ${claims.data.node}`);
  return claims.data;
}

/**
 * Control tokens: the control plane commanding a process over HTTP (close a room on a node, start
 * a recording), and the recorder's report back (a token the control plane gave it). Same key as
 * media tokens, another audience, so a media token is never accepted as a command. Each names the
 * process it is for (`node`) and one `scope`, the kind of command (controlScopes); the receiver
 * checks both (shared/src/control-auth.ts). One bound to a live (`sid`) is good for that live only.
 */
export const CONTROL_TOKEN_AUDIENCE = 'podlive-sfu-control';
/** A command's default lifetime: it is signed just before it is sent. */
export const CONTROL_TOKEN_TTL_SEC = 60;

export const controlScopes = [
  /** Control plane → SFU node. */
  'room:close', 'room:read', 'room:moderate',
  /** Control plane → recorder. */
  'recording:start', 'recording:stop', 'recording:read',
  /** Recorder → control plane: the finished recording of one live (its token carries the sid). */
  'recording:report',
] as const;
export type ControlScope = (typeof controlScopes)[number];

export const controlClaimsSchema = z.object({
  node: z.string().min(1).max(64),
  scope: z.enum(controlScopes),
  sid: z.string().min(1).max(64).optional(),
});
export type ControlClaims = z.infer<typeof controlClaimsSchema>;

export async function signControlToken(key: TokenSigningKey, claims: ControlClaims, ttlSec = CONTROL_TOKEN_TTL_SEC): Promise<string> {
  return sign(key, { ...controlClaimsSchema.parse(claims) }, CONTROL_TOKEN_AUDIENCE, ttlSec);
}

/** The claims of a valid control token, or undefined (bad signature or algorithm, expired, malformed). */
export async function readControlToken(key: TokenVerifyingKey, token: string): Promise<ControlClaims | undefined> {
  try {
    const claims = controlClaimsSchema.safeParse(await verified(key, token, CONTROL_TOKEN_AUDIENCE));
    return claims.success ? claims.data : undefined;
  } catch (err) {
    if (err instanceof TypeError) throw err;
    return undefined;
  }
}

/** True when `token` is a valid control token for `nodeId` with `scope` (and, when given, for live `sid`). */
export async function verifyControlToken(key: TokenVerifyingKey, token: string, expected: { node: string; scope: ControlScope; sid?: string }): Promise<boolean> {
  const claims = await readControlToken(key, token);
  if (!claims || claims.node !== expected.node || claims.scope !== expected.scope) return false;
  return claims.sid === expected.sid;
}
