import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomHandle } from '@podlive/shared/testing/handles';
import { encodeTestRecording, reportFinished, storeRecording } from './recording-media';
import { MEDIA_TOKEN_KEYS, PASSWORD, type Stack } from './stack';

/** The pages anyone reaches without signing in, by name, as paths on the stack. */
export interface PublicPages {
  pages: Record<'home' | 'discover' | 'register' | 'live' | 'profile', string>;
  /** The host's media join for the live (to publish into it). */
  join: { url: string; token: string };
  /** What the pages show of the host and the live (quotes, an ampersand and an angle bracket in them: text to escape). */
  content: typeof CONTENT & { handle: string };
}

const CONTENT = {
  displayName: 'Ada Castwell',
  bio: 'Weekly talks on open-source audio tools (mixing, mastering & "bedroom" studios <3), with guests called up from the audience.',
  liveTitle: 'Episode 2: Q&A live from the "home studio"',
  pastTitle: 'Episode 1: mixing on a budget',
} as const;

/**
 * Real content for the public pages: a host with a display name, a bio, an avatar and a finished
 * recording (with its thumbnail) on the profile, and a live of theirs that is live now (listed
 * on the home page and /discover). Made through the API, the recording as the recorder leaves it.
 */
export async function publicPages(stack: Stack): Promise<PublicPages> {
  const encoded = await encodeTestRecording();
  try {
    const handle = randomHandle('host');
    const email = `${handle}@example.com`;
    let token = '';
    const api = async <T>(path: string, init: { method?: string; body?: unknown; form?: FormData } = {}): Promise<T> => {
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      if (init.body !== undefined) headers['content-type'] = 'application/json';
      const body = init.form ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
      const response = await fetch(`${stack.url}/api${path}`, { method: init.method ?? 'GET', headers, body });
      if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as T;
    };
    await api('/auth/register', { method: 'POST', body: { email, password: PASSWORD, handle, displayName: CONTENT.displayName } });
    await api('/auth/verify-otp', { method: 'POST', body: { email, code: await stack.latestCode(email), purpose: 'verify_email' } });
    ({ accessToken: token } = await api<{ accessToken: string }>('/auth/login', { method: 'POST', body: { email, password: PASSWORD } }));
    await api('/users/me', { method: 'PUT', body: { bio: CONTENT.bio } });
    const avatar = new FormData();
    avatar.append('avatar', new Blob([await readFile(join(encoded.dir, 'thumbnail.jpg'))], { type: 'image/jpeg' }), 'avatar.jpg');
    await api('/users/me/avatar', { method: 'PUT', form: avatar });

    const past = await api<{ session: { id: string } }>('/live/create', { method: 'POST', body: { title: CONTENT.pastTitle, category: 'Tech' } });
    await api(`/live/${past.session.id}/start`, { method: 'POST' });
    await api(`/live/${past.session.id}/end`, { method: 'POST' });
    const finished = await reportFinished(stack.url, MEDIA_TOKEN_KEYS.privateKey, past.session.id, await storeRecording(stack.dataDir, past.session.id, encoded));
    if (!finished.ok) throw new Error(`recording report: ${finished.status} ${await finished.text()}`);

    const live = await api<{ session: { id: string } }>('/live/create', { method: 'POST', body: { title: CONTENT.liveTitle, category: 'Tech' } });
    const started = await api<{ join: { url: string; token: string } }>(`/live/${live.session.id}/start`, { method: 'POST' });
    return {
      pages: { home: '/', discover: '/discover', register: '/register', live: `/live/${live.session.id}`, profile: `/@${handle}` },
      join: started.join,
      content: { ...CONTENT, handle },
    };
  } finally {
    await encoded.remove();
  }
}
