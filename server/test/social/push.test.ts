import { queryRows, sql } from '@podlive/db';
import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, startHarness, type Account, type Harness } from '../accounts/harness';
import { createLive, startLive, until } from '../live/harness';
import { WebPush } from '../../src/features/social/web-push';
import { BrowserKeys, codeOf, follow, get, send, startPushService } from './harness';

let h: Harness;
let pushService: Awaited<ReturnType<typeof startPushService>>;
beforeAll(async () => {
  // The push service answers 410 Gone for subscriptions under /gone/ (the browser unsubscribed).
  pushService = await startPushService((path) => (path.startsWith('/gone/') ? 410 : 201));
  // A local push service is reached only because the configuration lists it.
  h = await startHarness({}, { SFU_URL: 'http://127.0.0.1:9', PUSH_SERVICE_ORIGINS: pushService.origin });
});
afterAll(async () => {
  await h.close();
  await pushService.close();
});

const subscriptionsOf = (who: Account) =>
  queryRows<{ endpoint: string }>(h.testDb.db, sql`select endpoint from push_subscriptions where user_id = ${who.id} order by endpoint`);

/**
 * Checks a VAPID JWT (RFC 8292: ES256 over the server's public key) and returns its claims. With
 * node:crypto: jose belongs to @podlive/shared, not to the server's dependencies.
 */
function verifyVapidJwt(token: string, publicKey: string): Record<string, unknown> {
  const [header, claims, signature] = token.split('.');
  if (header === undefined || claims === undefined || signature === undefined) throw new Error('not a JWT');
  expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ alg: 'ES256', typ: 'JWT' });
  const point = Buffer.from(publicKey, 'base64url');
  const key = createPublicKey({ format: 'jwk', key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33, 65).toString('base64url') } });
  const valid = verify('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
  if (!valid) throw new Error('the VAPID signature does not verify');
  return JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>;
}

describe('Web Push', () => {
  it('serves the VAPID public key (generated once per DATA_DIR when not configured)', async () => {
    const response = await get(h.app, '/api/push/vapid-key');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ publicKey: h.config.push.publicKey });
    expect(Buffer.from(h.config.push.publicKey, 'base64url')).toHaveLength(65);
  });

  it('pushes an encrypted, VAPID-signed "is live" to every browser of every follower when a host goes live', async () => {
    const host = await signUp(h.app, { displayName: 'Pia Podcaster' });
    const fan = await signUp(h.app);
    await follow(h.app, fan, host);
    const laptop = new BrowserKeys();
    const phone = new BrowserKeys();
    for (const [keys, name] of [[laptop, 'laptop'], [phone, 'phone']] as const) {
      const saved = await send(h.app, 'POST', '/api/push/subscriptions', fan, keys.subscription(`${pushService.origin}/ok/${fan.id}/${name}`));
      expect(saved.statusCode).toBe(201);
    }
    const from = pushService.received.length;
    const id = await createLive(h.app, host, { title: 'Morning show' });
    await startLive(h.app, host, id);

    const arrived = await until(() => {
      const mine = pushService.received.slice(from).filter((r) => r.path.includes(fan.id));
      return mine.length === 2 ? mine : undefined;
    }, 'two pushes');
    for (const request of arrived) {
      const keys = request.path.endsWith('laptop') ? laptop : phone;
      expect(request.headers['content-encoding']).toBe('aes128gcm');
      expect(Number(request.headers.ttl)).toBeGreaterThan(0);
      const auth = /^vapid t=([^,]+), k=(\S+)$/.exec(String(request.headers.authorization));
      expect(auth?.[2]).toBe(h.config.push.publicKey);
      const claims = verifyVapidJwt(auth?.[1] ?? '', h.config.push.publicKey);
      expect(claims).toMatchObject({ aud: pushService.origin, sub: h.config.push.subject });
      expect(claims.exp).toBeGreaterThan(Date.now() / 1000);
      expect(JSON.parse(keys.decrypt(request.body))).toEqual({ title: 'Pia Podcaster is live', body: 'Morning show', url: `/live/${id}` });
    }
  });

  it('deletes a subscription the push service answers 410 to, keeps the others', async () => {
    const host = await signUp(h.app);
    const fan = await signUp(h.app);
    await follow(h.app, fan, host);
    const gone = `${pushService.origin}/gone/${fan.id}`;
    const fine = `${pushService.origin}/ok/${fan.id}/desk`;
    await send(h.app, 'POST', '/api/push/subscriptions', fan, new BrowserKeys().subscription(gone));
    await send(h.app, 'POST', '/api/push/subscriptions', fan, new BrowserKeys().subscription(fine));
    const id = await createLive(h.app, host);
    await startLive(h.app, host, id);
    await until(async () => ((await subscriptionsOf(fan)).length === 1 ? true : undefined), 'the gone subscription deleted');
    expect(await subscriptionsOf(fan)).toEqual([{ endpoint: fine }]);
  });

  it('upserts by endpoint (another user on the same browser takes it over), deletes only the caller’s', async () => {
    const [a, b] = await Promise.all([signUp(h.app), signUp(h.app)]);
    const endpoint = `${pushService.origin}/ok/shared-${a.id}`;
    expect((await send(h.app, 'POST', '/api/push/subscriptions', a, new BrowserKeys().subscription(endpoint))).statusCode).toBe(201);
    expect((await send(h.app, 'POST', '/api/push/subscriptions', a, new BrowserKeys().subscription(endpoint))).statusCode).toBe(201);
    expect(await subscriptionsOf(a)).toHaveLength(1);
    await send(h.app, 'POST', '/api/push/subscriptions', b, new BrowserKeys().subscription(endpoint));
    expect(await subscriptionsOf(a)).toEqual([]);
    expect((await send(h.app, 'DELETE', '/api/push/subscriptions', a, { endpoint })).statusCode).toBe(200);
    expect(await subscriptionsOf(b)).toHaveLength(1);
    expect((await send(h.app, 'DELETE', '/api/push/subscriptions', b, { endpoint })).json()).toEqual({ subscribed: false });
    expect(await subscriptionsOf(b)).toEqual([]);
  });

  it('refuses subscriptions that could never work, and anonymous callers', async () => {
    const user = await signUp(h.app);
    const good = new BrowserKeys().subscription(`${pushService.origin}/ok/${user.id}/x`);
    expect(codeOf(await h.app.inject({ method: 'POST', url: '/api/push/subscriptions', payload: good }))).toEqual([401, 'UNAUTHENTICATED']);
    const bad = [
      { ...good, endpoint: 'javascript:alert(1)' },
      { ...good, endpoint: `${pushService.origin}/${'x'.repeat(2000)}` },
      { ...good, extra: 1 },
      { endpoint: good.endpoint },
    ];
    for (const body of bad) expect(codeOf(await send(h.app, 'POST', '/api/push/subscriptions', user, body))).toEqual([400, 'VALIDATION_FAILED']);
    const badKeys = [
      { ...good, keys: { ...good.keys, p256dh: Buffer.alloc(65, 1).toString('base64url') } },
      { ...good, keys: { ...good.keys, auth: Buffer.alloc(8).toString('base64url') } },
      { ...good, keys: { ...good.keys, auth: '<script>' } },
    ];
    for (const body of badKeys) expect(codeOf(await send(h.app, 'POST', '/api/push/subscriptions', user, body))).toEqual([400, 'PUSH_SUBSCRIPTION_INVALID']);
    expect(await subscriptionsOf(user)).toEqual([]);
  });

  it.each(['https://podlive.example', 'http://localhost:3000'])('takes only browser push services as endpoints (PUBLIC_URL %s): never an address of the user’s choosing', async (publicUrl) => {
    const prod = await startHarness({}, { SFU_URL: 'http://127.0.0.1:9', PUBLIC_URL: publicUrl });
    try {
      const user = await signUp(prod.app);
      const keys = new BrowserKeys();
      const status = async (endpoint: string) => {
        const response = await send(prod.app, 'POST', '/api/push/subscriptions', user, keys.subscription(endpoint));
        return response.statusCode === 201 ? 201 : codeOf(response);
      };
      for (const endpoint of ['https://fcm.googleapis.com/fcm/send/abc', 'https://updates.push.services.mozilla.com/wpush/v2/x', 'https://wns2-par02p.notify.windows.com/w/?token=x', 'https://web.push.apple.com/QGx']) {
        expect(await status(endpoint), endpoint).toBe(201);
      }
      for (const endpoint of ['https://169.254.169.254/latest/meta-data', 'https://internal.podlive.example/admin', 'http://fcm.googleapis.com/fcm/send/abc', 'https://fcm.googleapis.com:8443/x', 'https://fcm.googleapis.com.evil.example/x', 'https://user:pw@fcm.googleapis.com/x', 'http://127.0.0.1:6379/', pushService.origin]) {
        expect(await status(endpoint), endpoint).toEqual([400, 'PUSH_SUBSCRIPTION_INVALID']);
      }
    } finally {
      await prod.close();
    }
  });

  it('never posts to a stored endpoint that is no push service (a row saved before the rule)', async () => {
    const fan = await signUp(h.app);
    const keys = new BrowserKeys().subscription(`${pushService.origin}/ok/${fan.id}/old-row`);
    await h.testDb.db.execute(sql`insert into push_subscriptions (user_id, endpoint, p256dh, auth) values (${fan.id}, ${keys.endpoint}, ${keys.keys.p256dh}, ${keys.keys.auth})`);
    // A sender of a deployment that does not list the local push service.
    const push = new WebPush({ db: h.testDb.db, vapid: { ...h.config.push, extraServiceOrigins: [] }, log: h.app.log });
    push.send([fan.id], { title: 't', body: 'b', url: '/' });
    await push.idle();
    expect(pushService.received.filter((r) => r.path.includes(fan.id))).toEqual([]);
  });
});
