import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, UnsecuredJWT } from 'jose';
import { generateTokenKeyPair, MEDIA_TOKEN_ISSUER, parsePrivateKey, parsePublicKey, type TokenSigningKey, type TokenVerifyingKey } from '../tokens';

/** A media token key pair for a test: the keys, and their PEM text for an environment. */
export interface TestKeyPair {
  privateKey: TokenSigningKey;
  publicKey: TokenVerifyingKey;
  /** MEDIA_TOKEN_PRIVATE_KEY (the control plane). */
  privatePem: string;
  /** MEDIA_TOKEN_PUBLIC_KEY (nodes, the recorder). */
  publicPem: string;
}

/** A fresh Ed25519 pair (each call another: a token signed by one is refused by another's public key). */
export function testKeyPair(): TestKeyPair {
  const pem = generateTokenKeyPair();
  return { privateKey: parsePrivateKey(pem.privateKey), publicKey: parsePublicKey(pem.publicKey), privatePem: pem.privateKey, publicPem: pem.publicKey };
}

/**
 * Tokens with `payload` (as a media or control token would carry it, for `audience`) that a
 * verifier holding `publicPem` must refuse: signed by another Ed25519 key, by a P-256 key
 * (ES256), with an HS256 secret (the old shared MEDIA_TOKEN_SECRET), with the public key itself
 * as the HMAC secret (the algorithm-confusion attack), and unsigned (`alg: none`).
 */
export async function forgedTokens(payload: Record<string, unknown>, audience: string, publicPem: string): Promise<Record<string, string>> {
  const jwt = (alg: string) =>
    new SignJWT(payload).setProtectedHeader({ alg }).setIssuer(MEDIA_TOKEN_ISSUER).setAudience(audience).setIssuedAt().setExpirationTime('60s');
  return {
    'another Ed25519 key': await jwt('EdDSA').sign(testKeyPair().privateKey),
    'an ES256 key': await jwt('ES256').sign(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
    'an HS256 secret': await jwt('HS256').sign(new TextEncoder().encode('stack-media-secret-stack-media-secret-0123')),
    'the public key as an HMAC secret': await jwt('HS256').sign(new TextEncoder().encode(publicPem)),
    'alg none': new UnsecuredJWT(payload).setIssuer(MEDIA_TOKEN_ISSUER).setAudience(audience).setIssuedAt().setExpirationTime('60s').encode(),
  };
}
