import { randomHandle } from '@podlive/shared/testing/handles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, countRows, PASSWORD, post, signUp, startHarness, unique, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

/** Every table a refused request could have written to. */
async function snapshot() {
  const tables = ['users', 'one_time_codes', 'refresh_token_families', 'follows'];
  return Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await countRows(h.testDb, t)] as const)));
}

const email = () => `h_${unique()}@example.test`;

describe('hostile input gets a clear 4xx and changes nothing', () => {
  it('a 5 MB JSON body → 413', async () => {
    const before = await snapshot();
    const response = await post(h.app, '/api/auth/register', { email: email(), password: PASSWORD, handle: randomHandle('big'), displayName: 'x'.repeat(5 * 1024 * 1024) });
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await snapshot()).toEqual(before);
  });

  it('a number where a string is expected → 400 with fields', async () => {
    const before = await snapshot();
    const response = await post(h.app, '/api/auth/register', { email: 42, password: PASSWORD, handle: 12345 });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'VALIDATION_FAILED', fields: { email: expect.any(String), handle: expect.any(String) } });
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    ['a Cyrillic а', 'r\u0430hul_x'],
    ['a zero-width space', 'rahul\u200b_x'],
    ['a full-width letter', '\uff52ahul_x'],
    ['a space inside', 'rahul x'],
  ])('a handle with %s → 400 invalid', async (_, handle) => {
    const before = await snapshot();
    const response = await post(h.app, '/api/auth/register', { email: email(), password: PASSWORD, handle });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.fields.handle).toEqual(expect.any(String));
    expect(await snapshot()).toEqual(before);
  });

  it('unknown fields, broken JSON and control characters → 400 (bidi overrides are removed: shared/test/text.test.ts)', async () => {
    const me = await signUp(h.app);
    const before = await snapshot();
    const extra = await post(h.app, '/api/auth/register', { email: email(), password: PASSWORD, handle: randomHandle('ok'), isAdmin: true });
    expect(extra.statusCode).toBe(400);
    const broken = await h.app.inject({ method: 'POST', url: '/api/auth/login', payload: '{"email":', headers: { 'content-type': 'application/json' } });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().error.code).toBe('BAD_REQUEST');
    const control = await h.app.inject({ method: 'PUT', url: '/api/users/me', payload: { displayName: 'evil\u0007bell' }, headers: bearer(me.accessToken) });
    expect(control.statusCode).toBe(400);
    expect(control.json().error.fields.displayName).toEqual(expect.any(String));
    const empty = await h.app.inject({ method: 'PUT', url: '/api/users/me', payload: {}, headers: bearer(me.accessToken) });
    expect(empty.statusCode).toBe(400);
    const self = await h.app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(me.accessToken) });
    expect(self.json()).toMatchObject({ displayName: me.handle, bio: '' });
    expect(await snapshot()).toEqual(before);
  });

  it('an overlong or odd handle in the profile path → 404, not 500', async () => {
    for (const handle of ['a'.repeat(500), '%27%20or%201%3D1--', '%E2%80%8B']) {
      const response = await h.app.inject({ method: 'GET', url: `/api/users/${handle}` });
      expect(response.statusCode).toBe(404);
    }
  });
});
