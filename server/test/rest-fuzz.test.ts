import type { MediaNode } from '@podlive/sfu';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, signUp, startHarness, type Account, type Harness } from './accounts/harness';
import { createLive, nodeEnv, startLive, startNode } from './live/harness';

/**
 * Every REST route (as the app registers them: an onRoute hook, so a new route is fuzzed without
 * touching this file) gets random params, query and bodies, anonymous and signed in, against the
 * real database and a real media node: no answer is a 5xx, and the app keeps serving. The seed is
 * fixed; a failure prints the route and the request fast-check shrank it to.
 */

interface Route {
  method: string;
  url: string;
}

const SEED = 16;
const RUNS_PER_ROUTE = 40;

let h: Harness;
let node: MediaNode;
let me: Account;
let other: Account;
let liveId: string;
const routes: Route[] = [];

beforeAll(async () => {
  node = await startNode();
  h = await startHarness({}, nodeEnv(node), (app) =>
    app.addHook('onRoute', (route) => {
      if (route.websocket === true) return;
      for (const method of [route.method].flat()) {
        // HEAD runs the GET handler; the catch-all proxy (/ and /*) is the web app's, not a REST route.
        if (method === 'HEAD' || !/^\/(api|internal|health)(\/|$)/.test(route.url)) continue;
        routes.push({ method, url: route.url });
      }
    }),
  );
  [me, other] = await Promise.all([signUp(h.app), signUp(h.app)]);
  liveId = await createLive(h.app, me);
  // Started, so the stage and chat routes get past 'not started'.
  await startLive(h.app, me, liveId);
}, 60_000);

afterAll(async () => {
  await h?.close();
  await node?.close();
});

/** Values that reach past the first checks: real ids and handles of this database. */
const known = () => [me.id, other.id, me.handle, other.handle, liveId, '00000000-0000-0000-0000-000000000000'];

/** Field names of the API's bodies and queries with a value each would accept: bodies are often nearly right. */
const plausible = (): Record<string, unknown> => ({
  email: `${other.handle}@example.test`, password: 'correct horse battery staple', newPassword: 'another long passphrase here',
  handle: other.handle, displayName: 'Someone', bio: 'hello', code: '123456', purpose: 'verify_email', refreshToken: 'x'.repeat(43),
  rememberMe: true, q: 'us', limit: 5, cursor: 'abc', exclude: 'node-live', title: 'A title', description: 'About it',
  category: 'Tech', scheduledAt: new Date(Date.now() + 3_600_000).toISOString(), endpoint: 'https://fcm.googleapis.com/fcm/send/x',
  keys: { p256dh: 'x', auth: 'y' }, sessionId: liveId, userId: other.id, reason: 'spam', muted: true, targetKind: 'user',
  targetId: other.id, all: true, ids: [liveId], durationSec: 60, body: 'hi', token: 'x'.repeat(30), visibility: 'private',
});
const FIELDS = [
  'email', 'password', 'newPassword', 'handle', 'displayName', 'bio', 'code', 'purpose', 'refreshToken', 'rememberMe', 'q', 'limit',
  'cursor', 'exclude', 'title', 'description', 'category', 'scheduledAt', 'endpoint', 'keys', 'sessionId', 'userId', 'reason', 'muted',
  'targetKind', 'targetId', 'all', 'ids', 'durationSec', 'body', 'token', 'visibility',
];

const nasty = fc.constantFrom('\u0000', 'a\u0000b', '\n', '\r\n', '\t', '\u202E', '%', '../', '\\', "'", '"', '{}', 'a'.repeat(3000), '\uD800');
const text = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), nasty, fc.uuid());
const scalar = fc.oneof(text, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
const value = fc.oneof({ maxDepth: 2 }, scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.constantFrom(...FIELDS), scalar, { maxKeys: 3 }));
const fieldName = () => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });

/** A field's plausible value, that value with something nasty inside, or anything. */
const fieldValue = (name: string) => {
  const good = plausible()[name];
  const spoiled = typeof good === 'string' ? fc.tuple(nasty, fc.nat({ max: good.length })).map(([bad, at]) => good.slice(0, at) + bad + good.slice(at)) : value;
  return fc.oneof({ weight: 3, arbitrary: fc.constant(good) }, { weight: 2, arbitrary: spoiled }, { weight: 1, arbitrary: value });
};
/** An object of some of the fields, each plausible, spoiled or random. */
const fields = () =>
  fc.uniqueArray(fieldName(), { maxLength: 5 }).chain((names) => fc.tuple(...names.map(fieldValue)).map((values) => Object.fromEntries(names.map((n, i) => [n, values[i]]))));

/** Percent-encodes the UTF-8 of `s` (lone surrogates become U+FFFD, as a browser sends them). */
const encode = (s: string) => encodeURIComponent(Buffer.from(s).toString());
/** A param or wildcard, percent-encoded: a real id or handle, anything at all, or broken escapes. */
const segment = () => fc.oneof(fc.constantFrom(...known()).map(encode), text.map(encode), fc.constantFrom('%', '%zz', '%00', '%ED%A0%80', '%C0%AF', '..', '%2e%2e%2f'));

const body = () =>
  fc.oneof(
    fc.constant<Pick<InjectOptions, 'payload' | 'headers'>>({}),
    fields().map((payload) => ({ payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } })),
    fields().map((payload) => ({ payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } })),
    fc.jsonValue().map((payload) => ({ payload: JSON.stringify(payload) ?? 'null', headers: { 'content-type': 'application/json' } })),
    fc
      .tuple(fc.constantFrom('application/json', 'multipart/form-data; boundary=xyz', 'multipart/form-data', 'application/octet-stream', 'text/plain', 'application/x-www-form-urlencoded'), fc.string({ unit: 'binary', maxLength: 200 }))
      .map(([type, payload]) => ({ payload, headers: { 'content-type': type } })),
    fc.tuple(fieldName(), fc.string({ unit: 'binary', maxLength: 100 })).map(([name, content]) => ({
      payload: `--xyz\r\nContent-Disposition: form-data; name="${name}"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n${content}\r\n--xyz--\r\n`,
      headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    })),
  );

const query = () => fields().map((q) => Object.fromEntries(Object.entries(q).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v) ?? ''])));

/** The request for `route` with these parts (path params and wildcard filled in, percent-encoded). */
function requestFor(route: Route, params: string[], q: Record<string, string>, b: Pick<InjectOptions, 'payload' | 'headers'>): InjectOptions {
  let i = 0;
  const path = route.url.replace(/:\w+|\*/g, () => params[i++] ?? '');
  const search = new URLSearchParams(q).toString();
  return { method: route.method as InjectOptions['method'], url: search === '' ? path : `${path}?${search}`, payload: b.payload, headers: { ...b.headers } };
}

/** The signed-in caller's token, signing in again when a request (logout, reset) ended its session. */
async function stillSignedIn(app: FastifyInstance): Promise<void> {
  const self = await app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(me.accessToken) });
  if (self.statusCode === 401) me = await signUp(app);
}

describe('REST fuzz: no route answers 5xx', () => {
  it('every route was found', () => {
    expect(routes.length).toBeGreaterThan(40);
    expect(routes).toContainEqual({ method: 'PUT', url: '/api/users/me/avatar' });
  });

  it('random params, query and bodies, anonymous and signed in', { timeout: 120_000 }, async () => {
    const failures: string[] = [];
    for (const route of routes) {
      const paramCount = (route.url.match(/:\w+|\*/g) ?? []).length;
      const run = fc.assert(
        fc.asyncProperty(fc.array(segment(), { minLength: paramCount, maxLength: paramCount }), query(), body(), fc.boolean(), async (params, q, b, signedIn) => {
          const options = requestFor(route, params, q, b);
          if (signedIn) options.headers = { ...options.headers, ...bearer(me.accessToken) };
          const response = await h.app.inject(options);
          if (signedIn && route.url.startsWith('/api/auth/')) await stillSignedIn(h.app);
          if (response.statusCode >= 500) throw new Error(`${route.method} ${route.url} answered ${response.statusCode}: ${response.body.slice(0, 300)}`);
        }),
        { seed: SEED, numRuns: RUNS_PER_ROUTE },
      );
      // Every route is tried even when one fails: the report lists them all.
      await run.catch((err: unknown) => {
        const counterexample = String((err as Error).message).split('\n').find((line) => line.startsWith('Counterexample'));
        failures.push(`${String((err as Error).cause)}\n${counterexample}`);
      });
    }
    expect(failures).toEqual([]);
    // Still serving, with the database.
    const health = await h.app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect((await h.app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(me.accessToken) })).statusCode).toBe(200);
  });
});
