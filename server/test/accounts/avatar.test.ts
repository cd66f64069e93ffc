import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { bearer, signUp, startHarness, type Account, type Harness } from './harness';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.close();
});

function multipart(field: string, filename: string, contentType: string, bytes: Buffer) {
  const boundary = '----podlive-test-boundary';
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

const upload = (account: Account, body: ReturnType<typeof multipart>) =>
  h.app.inject({ method: 'PUT', url: '/api/users/me/avatar', payload: body.payload, headers: { ...body.headers, ...bearer(account.accessToken) } });

const png = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 90 } } }).png().toBuffer();

describe('PUT /api/users/me/avatar', () => {
  it('stores a real PNG as a 256x256 WebP served through avatarUrl with long caching, and deletes the old one', async () => {
    const me = await signUp(h.app);
    const first = await upload(me, multipart('avatar', 'me.png', 'image/png', await png(800, 400)));
    expect(first.statusCode).toBe(200);
    const firstUrl = first.json().avatarUrl as string;
    expect(firstUrl).toMatch(/^\/api\/media\/avatars\/[0-9a-f-]{36}\/[0-9a-f]{24}\.webp$/);
    const served = await h.app.inject({ method: 'GET', url: firstUrl });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toBe('image/webp');
    expect(served.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const meta = await sharp(served.rawPayload).metadata();
    expect(meta).toMatchObject({ format: 'webp', width: 256, height: 256 });
    expect((await h.app.inject({ method: 'GET', url: `/api/users/${me.handle}` })).json().avatarUrl).toBe(firstUrl);

    // The client's declared type is ignored: a PNG sent as "image/gif" named .txt is still accepted.
    const second = await upload(me, multipart('avatar', 'x.txt', 'image/gif', await png(64, 64)));
    expect(second.statusCode).toBe(200);
    expect(second.json().avatarUrl).not.toBe(firstUrl);
    expect((await h.app.inject({ method: 'GET', url: firstUrl })).statusCode).toBe(404);
  });

  it('refuses a text file named .png (400) and keeps the avatar', async () => {
    const me = await signUp(h.app);
    const response = await upload(me, multipart('avatar', 'evil.png', 'image/png', Buffer.from('<?php echo "hi"; ?> not an image')));
    expect(response.statusCode).toBe(400);
    expect(response.json().error.code).toBe('AVATAR_INVALID');
    expect((await h.app.inject({ method: 'GET', url: '/api/users/me', headers: bearer(me.accessToken) })).json().avatarUrl).toBeNull();
  });

  it('refuses an SVG (not a raster format we accept) and a file over 5 MB (413)', async () => {
    const me = await signUp(h.app);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    expect((await upload(me, multipart('avatar', 'a.svg', 'image/svg+xml', svg))).json().error.code).toBe('AVATAR_INVALID');
    const big = Buffer.concat([await png(10, 10), Buffer.alloc(5 * 1024 * 1024 + 10)]);
    const response = await upload(me, multipart('avatar', 'big.png', 'image/png', big));
    expect(response.statusCode).toBe(413);
    expect(response.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('needs a signed-in caller and the field "avatar"', async () => {
    const me = await signUp(h.app);
    const body = multipart('avatar', 'a.png', 'image/png', await png(10, 10));
    expect((await h.app.inject({ method: 'PUT', url: '/api/users/me/avatar', payload: body.payload, headers: body.headers })).statusCode).toBe(401);
    expect((await upload(me, multipart('picture', 'a.png', 'image/png', await png(10, 10)))).statusCode).toBe(400);
  });

  it('404s unknown or malformed media keys', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/api/media/avatars/../../secrets' })).statusCode).toBe(404);
    expect((await h.app.inject({ method: 'GET', url: '/api/media/avatars/00000000-0000-4000-8000-000000000000/000000000000000000000000.webp' })).statusCode).toBe(404);
  });
});
