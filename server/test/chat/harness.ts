import { queryRows, sql } from '@podlive/db';
import type { TestDb } from '@podlive/db/testing';
import type { ChatRestriction, ChatState, ChatWsEvent } from '@podlive/shared/chat';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { randomUUID } from 'node:crypto';
import { bearer, signUp, type Account } from '../accounts/harness';
import { createLive, startLive, type WsClient } from '../live/harness';

export type Ack = Extract<ChatWsEvent, { type: 'chat_ack' }>;
export type Refused = Extract<ChatWsEvent, { type: 'chat_refused' }>;
export type ChatMessageEvent = Extract<ChatWsEvent, { type: 'chat_message' }>;

/** A fresh host and their started live. */
export async function hostedLive(app: FastifyInstance): Promise<{ host: Account; sessionId: string }> {
  const host = await signUp(app);
  const sessionId = await createLive(app, host);
  await startLive(app, host, sessionId);
  return { host, sessionId };
}

/** Sends chat_send and resolves with the answer for its clientId (ack or refusal). */
export async function chat(client: WsClient, sessionId: string, body: string, clientId = randomUUID()): Promise<Ack | Refused> {
  const from = client.events.length;
  client.send({ type: 'chat_send', sessionId, clientId, body });
  return (await client.next((e) => (e.type === 'chat_ack' || e.type === 'chat_refused') && e.clientId === clientId, from)) as Ack | Refused;
}

/** The chat_messages the client received for a session, in arrival order. */
export const received = (client: WsClient, sessionId: string) =>
  client.events.flatMap((e) => (e.type === 'chat_message' && e.sessionId === sessionId ? [e.message] : []));

/** Chat rows stored for a user (deleted ones included), to prove a refusal stored nothing. */
export async function storedBy(testDb: TestDb, userId: string): Promise<number> {
  const rows = await queryRows<{ n: number }>(testDb.db, sql`select count(*)::int as n from chat_messages where user_id = ${userId}`);
  return rows[0]?.n ?? -1;
}

/** `blocker` blocks `blocked` the way the block API does: a row, then the connections are told. */
export async function block(app: FastifyInstance, testDb: TestDb, blocker: Account, blocked: Account): Promise<void> {
  await testDb.db.execute(sql`insert into blocks (blocker_id, blocked_id) values (${blocker.id}, ${blocked.id}) on conflict do nothing`);
  await app.liveEvents.blocksChanged(blocker.id);
}

export async function getChat(app: FastifyInstance, sessionId: string, as?: Account): Promise<ChatState> {
  const response = await app.inject({ method: 'GET', url: `/api/live/${sessionId}/chat`, headers: as === undefined ? {} : bearer(as.accessToken) });
  if (response.statusCode !== 200) throw new Error(`GET chat answered ${response.statusCode}: ${response.body}`);
  return response.json() as ChatState;
}

/** A call to the chat API as `as`. */
export function api(app: FastifyInstance, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, as: Account | null, payload?: object): Promise<LightMyRequestResponse> {
  return app.inject({ method, url, headers: as === null ? {} : bearer(as.accessToken), ...(payload === undefined ? {} : { payload }) });
}

export type Restricted = { userId: string; restriction: ChatRestriction | null };

