import { get, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from './stack';

/**
 * Text goes out compressed, as the browser gets it from the control plane in front of the built web
 * app: the HTML SvelteKit renders (compressed by the control plane's @fastify/compress) and the
 * JavaScript and CSS of the build (precompressed files the web app serves as they are). Raw
 * sockets (node:http), not fetch: fetch would decompress and hide what went over the wire.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  /** The bytes as sent. */
  wire: Buffer;
  /** The bytes after undoing the Content-Encoding. */
  body: Buffer;
}

function fetchRaw(path: string, acceptEncoding: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    get(`${stack.url}${path}`, { headers: { 'accept-encoding': acceptEncoding, accept: '*/*' } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const wire = Buffer.concat(chunks);
        const encoding = response.headers['content-encoding'];
        const body = encoding === 'br' ? brotliDecompressSync(wire) : encoding === 'gzip' ? gunzipSync(wire) : wire;
        resolve({ status: response.statusCode ?? 0, headers: response.headers, wire, body });
      });
    }).on('error', reject);
  });
}

/** The home page's own script and stylesheet, as its HTML names them. */
async function assetsOfHome(): Promise<{ js: string; css: string }> {
  const html = (await fetchRaw('/', 'identity')).body.toString();
  const js = /import\("([^"]+\/entry\/app\.[^"]+\.js)"\)/.exec(html)?.[1];
  const css = /<link href="([^"]+\.css)" rel="stylesheet">/.exec(html)?.[1];
  expect(js, 'the app script imported by /').toBeDefined();
  expect(css, 'a stylesheet link on /').toBeDefined();
  // Relative to the page (SvelteKit's default paths.relative): "./_app/..." on /.
  const absolute = (href: string) => new URL(href, `${stack.url}/`).pathname;
  return { js: absolute(js!), css: absolute(css!) };
}

describe('text compression', () => {
  it('the HTML of a page goes out as brotli when the browser takes it, else gzip, else as it is', async () => {
    const plain = await fetchRaw('/', 'identity');
    expect(plain.status).toBe(200);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toMatch(/^<!doctype html>[\s\S]*<\/html>\s*$/);

    for (const [accept, encoding] of [['gzip, deflate, br, zstd', 'br'], ['gzip, deflate', 'gzip']] as const) {
      const page = await fetchRaw('/', accept);
      expect(page.status).toBe(200);
      expect(page.headers['content-encoding'], accept).toBe(encoding);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers.vary).toMatch(/accept-encoding/i);
      // The page again (its CSP nonce differs per response, the rest of it not).
      expect(page.body.toString().replace(/nonce-[^']+|nonce="[^"]+"/g, '')).toBe(plain.body.toString().replace(/nonce-[^']+|nonce="[^"]+"/g, ''));
      expect(page.wire.length, `${encoding}: ${page.wire.length} bytes of ${plain.body.length}`).toBeLessThan(plain.body.length / 2);
    }
  });

  it('the JavaScript and CSS of the build go out as brotli or gzip, the same bytes once decoded', async () => {
    const { js, css } = await assetsOfHome();
    for (const [path, type] of [[js, /javascript/], [css, /text\/css/]] as const) {
      const plain = await fetchRaw(path, 'identity');
      expect(plain.status, path).toBe(200);
      expect(plain.headers['content-type'], path).toMatch(type);
      expect(plain.headers['content-encoding'], path).toBeUndefined();
      for (const [accept, encoding] of [['gzip, deflate, br, zstd', 'br'], ['gzip, deflate', 'gzip']] as const) {
        const asset = await fetchRaw(path, accept);
        expect(asset.headers['content-encoding'], `${path} for ${accept}`).toBe(encoding);
        expect(asset.body.equals(plain.body), `${path} (${encoding}) decodes to the file`).toBe(true);
        expect(asset.wire.length, `${path} ${encoding}: ${asset.wire.length} bytes of ${plain.body.length}`).toBeLessThan(plain.body.length * 0.6);
      }
    }
  });
});
