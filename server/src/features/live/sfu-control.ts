import type { ControlPeers } from '@podlive/shared/control';
import { signControlToken, type ControlScope, type TokenSigningKey } from '@podlive/shared/tokens';
import type { NodeRef } from './placement';

/** How long the control plane waits for a node's answer to a command. */
export const CONTROL_TIMEOUT_MS = 3000;

/** A node answered a control command with an error status. */
export class NodeCommandError extends Error {
  override name = 'NodeCommandError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** One control command (control token), resolving with the node's response when it is ok. */
async function command(node: NodeRef, key: TokenSigningKey, scope: ControlScope, path: string, init: { method: 'GET' | 'POST'; body?: object }): Promise<Response> {
  const token = await signControlToken(key, { node: node.id, scope });
  const response = await fetch(`${node.controlUrl}/control${path}`, {
    method: init.method,
    headers: { authorization: `Bearer ${token}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
  });
  if (!response.ok) {
    await response.body?.cancel();
    throw new NodeCommandError(response.status, `node ${node.id} answered ${response.status} to ${init.method} ${path}`);
  }
  return response;
}

const room = (sessionId: string) => `/rooms/${encodeURIComponent(sessionId)}`;
const user = (sessionId: string, userId: string) => `${room(sessionId)}/users/${encodeURIComponent(userId)}`;

/**
 * Closes the live's room on a node (`POST /control/rooms/:id/close`, control token): every peer
 * there gets roomClosed { reason: 'ended' }. Resolves when the node confirmed; rejects when it is
 * unreachable or refuses (the caller decides whether that blocks anything).
 */
export async function closeRoom(node: NodeRef, sessionId: string, key: TokenSigningKey): Promise<void> {
  await command(node, key, 'room:close', `${room(sessionId)}/close`, { method: 'POST' });
}

/** The peers of the live's room on a node (empty when the room is not there). */
export async function roomPeers(node: NodeRef, sessionId: string, key: TokenSigningKey): Promise<ControlPeers> {
  try {
    return (await (await command(node, key, 'room:read', `${room(sessionId)}/peers`, { method: 'GET' })).json()) as ControlPeers;
  } catch (err) {
    if (err instanceof NodeCommandError && err.status === 404) return { roomId: sessionId, peers: [] };
    throw err;
  }
}

/** Every peer of the user in the room goes back to viewer; their producers close. Idempotent. */
export async function revokeUser(node: NodeRef, sessionId: string, userId: string, reason: 'removed' | 'left', key: TokenSigningKey): Promise<void> {
  await command(node, key, 'room:moderate', `${user(sessionId, userId)}/revoke`, { method: 'POST', body: { reason } });
}

/** Pauses (or resumes) the user's producers; 404 (NodeCommandError) when the user has no peer there. */
export async function muteUser(node: NodeRef, sessionId: string, userId: string, muted: boolean, key: TokenSigningKey): Promise<void> {
  await command(node, key, 'room:moderate', `${user(sessionId, userId)}/mute`, { method: 'POST', body: { muted } });
}
