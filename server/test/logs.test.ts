import { randomHandle } from '@podlive/shared/testing/handles';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactUrl } from '@podlive/shared/logger';
import { PASSWORD, post, startHarness, unique, type Harness } from './accounts/harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

const logged = () => JSON.stringify(h.logs);

describe('logs keep no credentials', () => {
  it('a mailed code is in the outbox file, never in the log (the outbox line names the file only)', async () => {
    const email = `log_${unique()}@example.test`;
    expect((await post(h.app, '/api/auth/register', { email, password: PASSWORD, handle: randomHandle('log') })).statusCode).toBe(202);
    expect((await post(h.app, '/api/auth/forgot-password', { email })).statusCode).toBe(202);
    const code = h.mailer.lastCode(email);
    const outboxLines = h.logs.filter((line) => line.msg === 'mail written to outbox' && line.to === email);
    expect(outboxLines).toHaveLength(2);
    for (const line of outboxLines) expect(line).not.toHaveProperty('text');
    expect(logged()).not.toContain(code);
  });

  it('request URLs are logged without the signature of a signed URL, a token or a code', async () => {
    const signed = new URL(await h.app.storage.signedUrl(`avatars/${unique()}.webp`, 60));
    const sig = signed.searchParams.get('sig');
    expect(sig).toEqual(expect.any(String));
    await h.app.inject({ method: 'GET', url: `${signed.pathname}${signed.search}` });
    await h.app.inject({ method: 'GET', url: '/api/live/00000000-0000-4000-8000-000000000000/token?token=media-secret-value&code=123456' });
    const urls = h.logs.filter((line) => line.msg === 'incoming request').map((line) => (line.req as { url: string }).url);
    expect(urls).toContain(`${signed.pathname}?exp=${signed.searchParams.get('exp')}&sig=[redacted]`);
    expect(urls).toContain('/api/live/00000000-0000-4000-8000-000000000000/token?token=[redacted]&code=[redacted]');
    expect(logged()).not.toContain(sig);
    expect(logged()).not.toContain('media-secret-value');
  });

  it('redactUrl keeps paths and harmless parameters, and S3 presigned signatures go too', () => {
    expect(redactUrl('/api/search?q=sig')).toBe('/api/search?q=sig');
    expect(redactUrl('/x?X-Amz-Signature=abc&X-Amz-Credential=AKIA%2F1&X-Amz-Expires=60')).toBe('/x?X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]&X-Amz-Expires=60');
    expect(redactUrl('/plain/path')).toBe('/plain/path');
  });
});
