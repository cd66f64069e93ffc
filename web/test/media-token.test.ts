import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RequestEvent } from '@sveltejs/kit';
import { GET } from '../src/routes/live/[id]/media-token/+server';

/**
 * The viewer page's token route relays GET /api/live/:id/token, passing `?exclude=<node id>` on
 * (a page whose node died or is draining) and dropping anything that isn't a node id.
 */
describe('/live/:id/media-token', () => {
  const calls: string[] = [];
  beforeEach(() => {
    calls.length = 0;
    vi.stubGlobal('fetch', async (url: string | URL) => {
      calls.push(String(url));
      return new Response(JSON.stringify({ url: 'ws://node-b', token: 't', node: 'node-b' }), { status: 200, headers: { 'content-type': 'application/json' } });
    });
  });
  afterEach(() => vi.unstubAllGlobals());

  const get = async (query: string) => {
    const event = { params: { id: 'live 1' }, url: new URL(`http://web/live/live%201/media-token${query}`), locals: { accessToken: 'access' } };
    const response = await GET(event as unknown as RequestEvent<{ id: string }, '/live/[id]/media-token'>);
    return { response, upstream: new URL(calls[0]!) };
  };

  it('forwards a node id as exclude, and is never cached', async () => {
    const { response, upstream } = await get('?exclude=edge-2.eu_west');
    expect(upstream.pathname).toBe('/api/live/live%201/token');
    expect(upstream.searchParams.get('exclude')).toBe('edge-2.eu_west');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ url: 'ws://node-b', token: 't', node: 'node-b' });
  });

  it('asks without exclude when there is none', async () => {
    const { upstream } = await get('');
    expect(upstream.search).toBe('');
  });

  it.each([['?exclude='], ['?exclude=a%2Fb'], ['?exclude=' + 'x'.repeat(65)], ['?exclude=node%20one'], ['?exclude=a%26admin%3D1']])('ignores an exclude that is not a node id (%s)', async (query) => {
    const { response, upstream } = await get(query);
    expect(upstream.search).toBe('');
    expect(response.status).toBe(200);
  });
});
