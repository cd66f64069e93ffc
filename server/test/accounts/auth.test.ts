import { randomHandle } from '@podlive/shared/testing/handles';
import { REFRESH_COOKIE, signAccessToken } from '@podlive/shared/accounts';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieIsSecure } from '../../src/features/auth/cookie';
import { bearer, countRows, PASSWORD, post, signUp, startHarness, unique, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const newEmail = () => `new_${unique()}@example.test`;
const refreshCookieOf = (setCookie: string | string[] | undefined) =>
  [setCookie ?? []].flat().find((c) => c.startsWith(`${REFRESH_COOKIE}=`));

describe('POST /api/auth/register', () => {
  it('creates the user (202), unverified, and mails a 6-digit code as text and escaped HTML', async () => {
    const email = newEmail();
    const handle = `Reg_${unique()}`;
    const response = await post(h.app, '/api/auth/register', { email: email.toUpperCase(), password: PASSWORD, handle: `@${handle}`, displayName: '<b>Ann</b>' });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toEqual({ ok: true });
    const { user } = (await post(h.app, '/api/auth/login', { email, password: PASSWORD })).json();
    expect(user).toMatchObject({ handle, email, displayName: '<b>Ann</b>', emailVerified: false, followerCount: 0, handleChangeAllowedAt: null });
    const mail = h.mailer.sent.at(-1);
    expect(mail?.to).toBe(email);
    expect(mail?.text).toMatch(/\b\d{6}\b/);
    expect(mail?.html).toContain('&lt;b&gt;Ann&lt;/b&gt;');
    expect(mail?.html).not.toContain('<b>Ann</b>');
  });

  it('refuses a handle taken in another case with 409 HANDLE_TAKEN and creates nothing', async () => {
    const first = await signUp(h.app);
    const users = await countRows(h.testDb, 'users');
    const response = await post(h.app, '/api/auth/register', { email: newEmail(), password: PASSWORD, handle: first.handle.toUpperCase() });
    expect(response.statusCode).toBe(409);
    expect(response.json().error).toMatchObject({ code: 'HANDLE_TAKEN', fields: { handle: expect.any(String) } });
    expect(await countRows(h.testDb, 'users')).toBe(users);
  });

  it('answers an email that has an account (in any case) exactly like a new one, and mails its owner a notice, not a code', async () => {
    const first = await signUp(h.app);
    const users = await countRows(h.testDb, 'users');
    const fresh = await post(h.app, '/api/auth/register', { email: newEmail(), password: PASSWORD, handle: randomHandle('x') });
    const again = await post(h.app, '/api/auth/register', { email: first.email.toUpperCase(), password: 'another long passphrase', handle: randomHandle('x') });
    expect(again.statusCode).toBe(fresh.statusCode);
    expect(again.json()).toEqual(fresh.json());
    expect(Object.keys(again.headers).sort()).toEqual(Object.keys(fresh.headers).sort());
    expect(await countRows(h.testDb, 'users')).toBe(users + 1);
    const notice = h.mailer.sent.at(-1);
    expect(notice?.to).toBe(first.email);
    expect(notice?.text).not.toMatch(/\b\d{6}\b/);
    expect(notice?.subject).toMatch(/sign up with your email/);
    // The owner's password is untouched.
    expect((await post(h.app, '/api/auth/login', { email: first.email, password: PASSWORD })).statusCode).toBe(200);
  });

  it('checks the handle first for an existing email too: a taken handle is 409 either way', async () => {
    const first = await signUp(h.app);
    const mails = h.mailer.sent.length;
    const response = await post(h.app, '/api/auth/register', { email: first.email, password: PASSWORD, handle: first.handle });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('HANDLE_TAKEN');
    expect(h.mailer.sent.length).toBe(mails);
  });

  it.each(['admin', 'Support', 'pod_live', 'fuck_you', 'sh1thead', 'podIive', 'p0dlive', 'PODL1VE', 'adm1n', 'ADMlN', 'rnoderator', '5upport', 'podlive_fans', 'the_p0dIive'])('refuses the prohibited or reserved handle %s with 400', async (handle) => {
    const users = await countRows(h.testDb, 'users');
    const mails = h.mailer.sent.length;
    const response = await post(h.app, '/api/auth/register', { email: newEmail(), password: PASSWORD, handle });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toMatchObject({ code: 'HANDLE_PROHIBITED', fields: { handle: expect.any(String) } });
    expect(await countRows(h.testDb, 'users')).toBe(users);
    expect(h.mailer.sent.length).toBe(mails);
  });

  it.each([['too short', 'short1'], ['common (any case)', 'QwertyUIOP']])('refuses a %s password with 400 and fields.password', async (_, password) => {
    const users = await countRows(h.testDb, 'users');
    const response = await post(h.app, '/api/auth/register', { email: newEmail(), password, handle: randomHandle('p') });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.fields.password).toEqual(expect.any(String));
    expect(await countRows(h.testDb, 'users')).toBe(users);
  });
});

describe('POST /api/auth/verify-otp', () => {
  it('verifies the email with the mailed code, once', async () => {
    const account = await signUp(h.app, { verified: false });
    const code = h.mailer.lastCode(account.email);
    const ok = await post(h.app, '/api/auth/verify-otp', { email: account.email, code, purpose: 'verify_email' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().user).toMatchObject({ id: account.id, emailVerified: true });
    const again = await post(h.app, '/api/auth/verify-otp', { email: account.email, code, purpose: 'verify_email' });
    expect(again.json().error.code).toBe('OTP_INVALID');
  });

  it('locks the code at the 5th wrong attempt: then even the right code fails, until a new code is sent', async () => {
    const account = await signUp(h.app, { verified: false });
    const code = h.mailer.lastCode(account.email);
    const wrong = code === '000000' ? '111111' : '000000';
    const codes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await post(h.app, '/api/auth/verify-otp', { email: account.email, code: wrong, purpose: 'verify_email' });
      expect(response.statusCode).toBe(400);
      codes.push(response.json().error.code);
    }
    expect(codes).toEqual(['OTP_INVALID', 'OTP_INVALID', 'OTP_INVALID', 'OTP_INVALID', 'OTP_LOCKED']);
    const right = await post(h.app, '/api/auth/verify-otp', { email: account.email, code, purpose: 'verify_email' });
    expect(right.json().error.code).toBe('OTP_LOCKED');
    expect((await h.app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(account.accessToken) })).json().emailVerified).toBe(false);

    const resent = await post(h.app, '/api/auth/resend-code', { email: account.email, purpose: 'verify_email' });
    expect(resent.statusCode).toBe(202);
    const fresh = h.mailer.lastCode(account.email);
    const ok = await post(h.app, '/api/auth/verify-otp', { email: account.email, code: fresh, purpose: 'verify_email' });
    expect(ok.statusCode).toBe(200);
  });

  it('refuses an expired code with OTP_EXPIRED', async () => {
    const account = await signUp(h.app, { verified: false });
    const { sql } = await import('@podlive/db');
    await h.testDb.db.execute(sql`update one_time_codes set expires_at = now() - interval '1 second' where user_id = ${account.id}`);
    const response = await post(h.app, '/api/auth/verify-otp', { email: account.email, code: h.mailer.lastCode(account.email), purpose: 'verify_email' });
    expect(response.json().error.code).toBe('OTP_EXPIRED');
  });

  it('caps wrong guesses per account across codes: a new code brings no fresh guesses', async () => {
    const account = await signUp(h.app, { verified: false });
    const guess = (code: string) => post(h.app, '/api/auth/verify-otp', { email: account.email, code, purpose: 'verify_email' });
    const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');
    // Four wrong guesses per code (never the per-code lock), then a new code, twice over; then two more.
    for (let round = 0; round < 2; round++) {
      const code = h.mailer.lastCode(account.email);
      for (let i = 0; i < 4; i++) expect((await guess(wrongFor(code))).json().error.code).toBe('OTP_INVALID');
      expect((await post(h.app, '/api/auth/resend-code', { email: account.email, purpose: 'verify_email' })).statusCode).toBe(202);
    }
    const code = h.mailer.lastCode(account.email);
    expect((await guess(wrongFor(code))).json().error.code).toBe('OTP_INVALID');
    expect((await guess(wrongFor(code))).json().error.code).toBe('OTP_LOCKED'); // the 10th wrong guess of the hour
    expect((await guess(code)).json().error.code).toBe('OTP_LOCKED');
    // A new code does not unlock the account either.
    expect((await post(h.app, '/api/auth/resend-code', { email: account.email, purpose: 'verify_email' })).statusCode).toBe(202);
    expect((await guess(h.mailer.lastCode(account.email))).json().error.code).toBe('OTP_LOCKED');
    const { users, eq } = await import('@podlive/db');
    const [row] = await h.testDb.db.select({ emailVerified: users.emailVerified }).from(users).where(eq(users.id, account.id));
    expect(row?.emailVerified).toBe(false);
  });

  it('caps the codes mailed per account and purpose: past the cap, resend answers 202 and mails nothing', async () => {
    const account = await signUp(h.app, { verified: false }); // the first code
    const mailsTo = () => h.mailer.sent.filter((mail) => mail.to === account.email).length;
    const answers: number[] = [];
    for (let i = 0; i < 6; i++) answers.push((await post(h.app, '/api/auth/resend-code', { email: account.email, purpose: 'verify_email' })).statusCode);
    expect(answers).toEqual([202, 202, 202, 202, 202, 202]);
    expect(mailsTo()).toBe(5);
    // The reset purpose has its own cap.
    expect((await post(h.app, '/api/auth/forgot-password', { email: account.email })).statusCode).toBe(202);
    expect(mailsTo()).toBe(6);
  });

  it('answers an unknown email like a wrong code', async () => {
    const response = await post(h.app, '/api/auth/verify-otp', { email: newEmail(), code: '123456', purpose: 'verify_email' });
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('OTP_INVALID');
  });
});

describe('POST /api/auth/login', () => {
  it('returns tokens and the (unverified) user, and sets the refresh cookie for the browser session', async () => {
    const account = await signUp(h.app, { verified: false });
    const response = await post(h.app, '/api/auth/login', { email: account.email.toUpperCase(), password: PASSWORD });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ accessToken: expect.any(String), refreshToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), user: { id: account.id, emailVerified: false } });
    const cookie = refreshCookieOf(response.headers['set-cookie']);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).not.toMatch(/Max-Age|Expires/);
    expect(cookie).not.toMatch(/Secure/); // PUBLIC_URL is http://localhost here
    const me = await h.app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(body.accessToken) });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ id: account.id, email: account.email });
  });

  it('keeps the cookie 30 days with rememberMe', async () => {
    const account = await signUp(h.app);
    const response = await post(h.app, '/api/auth/login', { email: account.email, password: PASSWORD, rememberMe: true });
    expect(refreshCookieOf(response.headers['set-cookie'])).toMatch(/; Max-Age=2592000/);
  });

  it('marks the cookie Secure outside localhost', () => {
    expect(cookieIsSecure('https://podlive.example')).toBe(true);
    expect(cookieIsSecure('http://localhost:3000')).toBe(false);
    expect(cookieIsSecure('http://127.0.0.1:3000')).toBe(false);
  });

  it('answers a wrong password and an unknown email identically', async () => {
    const account = await signUp(h.app);
    const wrong = await post(h.app, '/api/auth/login', { email: account.email, password: 'not the password at all' });
    const unknown = await post(h.app, '/api/auth/login', { email: newEmail(), password: 'not the password at all' });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json()).toEqual(wrong.json());
    expect(wrong.json().error.code).toBe('INVALID_CREDENTIALS');
  });
});

describe('refresh tokens', () => {
  it('rotate: each token is single use, and replaying a used one revokes the whole family', async () => {
    const account = await signUp(h.app);
    const first = await post(h.app, '/api/auth/refresh', { refreshToken: account.refreshToken });
    expect(first.statusCode).toBe(200);
    const { accessToken, refreshToken } = first.json();
    expect(refreshToken).not.toBe(account.refreshToken);
    expect((await h.app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(accessToken) })).statusCode).toBe(200);

    const replay = await post(h.app, '/api/auth/refresh', { refreshToken: account.refreshToken });
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.code).toBe('REFRESH_TOKEN_REUSED');
    const newest = await post(h.app, '/api/auth/refresh', { refreshToken });
    expect(newest.statusCode).toBe(401);
    expect(newest.json().error.code).toBe('REFRESH_TOKEN_INVALID');
  });

  it('work from the cookie, which is rotated too', async () => {
    const account = await signUp(h.app);
    const login = await post(h.app, '/api/auth/login', { email: account.email, password: PASSWORD });
    const cookie = refreshCookieOf(login.headers['set-cookie'])?.split(';')[0] ?? '';
    const response = await h.app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie } });
    expect(response.statusCode).toBe(200);
    const next = refreshCookieOf(response.headers['set-cookie']);
    expect(next).toBeDefined();
    expect(next?.split(';')[0]).not.toBe(cookie);
    const forged = await h.app.inject({ method: 'POST', url: '/api/auth/refresh', headers: { cookie: `${REFRESH_COOKIE}=${'A'.repeat(43)}` } });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().error.code).toBe('REFRESH_TOKEN_INVALID');
  });

  it('logout (204) revokes the family and clears the cookie; the token is useless after', async () => {
    const account = await signUp(h.app);
    const login = await post(h.app, '/api/auth/login', { email: account.email, password: PASSWORD });
    const cookie = refreshCookieOf(login.headers['set-cookie'])?.split(';')[0] ?? '';
    const logout = await h.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
    expect(logout.statusCode).toBe(204);
    expect(refreshCookieOf(logout.headers['set-cookie'])).toMatch(/Expires=Thu, 01 Jan 1970/);
    const after = await post(h.app, '/api/auth/refresh', { refreshToken: login.json().refreshToken });
    expect(after.statusCode).toBe(401);
    // The other login's family is untouched.
    expect((await post(h.app, '/api/auth/refresh', { refreshToken: account.refreshToken })).statusCode).toBe(200);
  });

  it('refuses refresh without a token', async () => {
    const response = await post(h.app, '/api/auth/refresh', {});
    expect(response.statusCode).toBe(401);
    expect(response.json().error.code).toBe('REFRESH_TOKEN_INVALID');
  });
});

describe('password reset', () => {
  it('answers 202 for an unknown email without sending anything', async () => {
    const mails = h.mailer.sent.length;
    const response = await post(h.app, '/api/auth/forgot-password', { email: newEmail() });
    expect(response.statusCode).toBe(202);
    expect(h.mailer.sent.length).toBe(mails);
  });

  it('resets with the mailed code and revokes every refresh token', async () => {
    const account = await signUp(h.app);
    expect((await post(h.app, '/api/auth/forgot-password', { email: account.email })).statusCode).toBe(202);
    const code = h.mailer.lastCode(account.email);
    const newPassword = 'a brand new passphrase';
    const common = await post(h.app, '/api/auth/reset-password', { email: account.email, code, newPassword: 'password123' });
    expect(common.json().error.fields.newPassword).toEqual(expect.any(String));
    const reset = await post(h.app, '/api/auth/reset-password', { email: account.email, code, newPassword });
    expect(reset.statusCode).toBe(200);
    expect((await post(h.app, '/api/auth/refresh', { refreshToken: account.refreshToken })).statusCode).toBe(401);
    expect((await post(h.app, '/api/auth/login', { email: account.email, password: PASSWORD })).statusCode).toBe(401);
    expect((await post(h.app, '/api/auth/login', { email: account.email, password: newPassword })).statusCode).toBe(200);
    const reused = await post(h.app, '/api/auth/reset-password', { email: account.email, code, newPassword: 'yet another passphrase' });
    expect(reused.json().error.code).toBe('OTP_INVALID');
  });
});

describe('GET /api/auth/check-handle/:handle', () => {
  it('tells available, taken (any case, with @), invalid and prohibited apart', async () => {
    const account = await signUp(h.app);
    const check = async (handle: string) => (await h.app.inject({ method: 'GET', url: `/api/auth/check-handle/${encodeURIComponent(handle)}` })).json();
    expect(await check(`free_${unique()}`)).toEqual({ available: true });
    expect(await check(`@${account.handle.toUpperCase()}`)).toEqual({ available: false, reason: 'taken' });
    expect(await check('ab')).toEqual({ available: false, reason: 'invalid' });
    expect(await check('r\u0430hul')).toEqual({ available: false, reason: 'invalid' });
    expect(await check('admin')).toEqual({ available: false, reason: 'prohibited' });
  });

  it('counts a look-alike of an existing handle as taken, and registering it is 409 HANDLE_TAKEN', async () => {
    const suffix = unique();
    await signUp(h.app, { handle: `lily_${suffix}` });
    const check = async (handle: string) => (await h.app.inject({ method: 'GET', url: `/api/auth/check-handle/${encodeURIComponent(handle)}` })).json();
    for (const lookalike of [`LiIy_${suffix}`, `l1ly_${suffix}`, `LILY_${suffix}`]) {
      expect(await check(lookalike)).toEqual({ available: false, reason: 'taken' });
      const response = await post(h.app, '/api/auth/register', { email: newEmail(), password: PASSWORD, handle: lookalike });
      expect(response.statusCode).toBe(409);
      expect(response.json().error.code).toBe('HANDLE_TAKEN');
    }
  });
});

describe('access tokens', () => {
  it('are required by /api/users/me: missing, forged or expired → 401 UNAUTHENTICATED', async () => {
    const account = await signUp(h.app);
    const sid = randomUUID();
    const expired = await signAccessToken(h.config.secrets.jwtAccess, { sub: account.id, handle: account.handle, sid }, -60);
    const forged = await signAccessToken('f'.repeat(40), { sub: account.id, handle: account.handle, sid });
    for (const headers of [{}, bearer(expired), bearer(forged), bearer('nonsense'), { authorization: 'Basic abc' }]) {
      const response = await h.app.inject({ method: 'GET', url: '/api/users/me', headers });
      expect(response.statusCode).toBe(401);
      expect(response.json().error.code).toBe('UNAUTHENTICATED');
    }
  });
});
