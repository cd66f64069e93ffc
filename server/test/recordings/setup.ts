import { queryRows, sql } from '@podlive/db';
import { type Recording, type RecordingsPage } from '@podlive/shared/recording';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { bearer, signUp, startHarness, type Account, type Harness } from '../accounts/harness';
import { openWs, type WsClient } from '../live/harness';
import { endedLive, FakeRecorder, readyBody, reportFinished, seedObjects } from './harness';

export let recorder: FakeRecorder;
export let h: Harness;
export let host: Account;
export let stranger: Account;
const sockets: WsClient[] = [];

/**
 * The recordings tests' control plane (a test double standing in for the recorder, no media node)
 * with a host and a stranger; call once at the top of a test file. The bindings above are set in its beforeAll.
 */
export function useRecordingsHarness(): void {
  beforeAll(async () => {
  recorder = await FakeRecorder.start();
  // No media node: SFU_URL points nowhere, which only the end's room close notices (and logs).
  h = await startHarness({}, { SFU_URL: 'http://127.0.0.1:9', RECORDER_URL: recorder.url });
  host = await signUp(h.app, { displayName: 'The Host' });
  stranger = await signUp(h.app);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await h.close();
    await recorder.close();
  });
}

export const secret = () => h.config.secrets.mediaToken;
export const pub = () => h.config.secrets.mediaTokenPublic;
export const get = (url: string, who?: Account) => h.app.inject({ method: 'GET', url, headers: who === undefined ? {} : bearer(who.accessToken) });
export const patch = (id: string, payload: unknown, who?: Account) =>
  h.app.inject({ method: 'PATCH', url: `/api/recordings/${id}`, payload: payload as object, headers: who === undefined ? {} : bearer(who.accessToken) });
export const remove = (id: string, who?: Account) => h.app.inject({ method: 'DELETE', url: `/api/recordings/${id}`, headers: who === undefined ? {} : bearer(who.accessToken) });
export const codeOf = (response: LightMyRequestResponse) => [response.statusCode, (response.json() as { error?: { code: string } }).error?.code];
export const page = (response: LightMyRequestResponse) => response.json() as RecordingsPage;

/** The recording row of a session, straight from the database. */
export async function rowOf(sessionId: string) {
  const [row] = await queryRows<{ id: string; status: string; title: string; visibility: string; updated_at: Date | string }>(
    h.testDb.db,
    sql`select id, status, title, visibility, updated_at from recordings where session_id = ${sessionId}`,
  );
  return row;
}

export const notificationsOf = (userId: string) =>
  queryRows<{ kind: string; payload: Record<string, unknown> }>(h.testDb.db, sql`select kind, payload from notifications where user_id = ${userId} order by created_at`);

/** A ready recording of a fresh ended live of `owner`, its objects in storage. */
export async function readyRecording(owner: Account, title = 'My show'): Promise<{ sessionId: string; recording: Recording; keys: Record<string, string> }> {
  const sessionId = await endedLive(h.app, owner, title);
  const keys = await seedObjects(h.app.storage, sessionId);
  const response = await reportFinished(h.app, secret(), sessionId, readyBody(sessionId));
  if (response.statusCode !== 200) throw new Error(`finishing failed: ${response.body}`);
  return { sessionId, recording: response.json() as Recording, keys };
}

/** A /ws connection of `who` whose user channel is joined (a ping round trip proves it: messages run in order). */
export async function userSocket(who: Account): Promise<WsClient> {
  const socket = await openWs(h.app, bearer(who.accessToken));
  sockets.push(socket);
  await barrier(socket);
  return socket;
}

/** Whatever was published before this resolves has reached `socket` (the in-process bus delivers at publish). */
export async function barrier(socket: WsClient): Promise<void> {
  const from = socket.events.length;
  socket.send({ type: 'ping' });
  await socket.next((e) => e.type === 'pong', from);
}

