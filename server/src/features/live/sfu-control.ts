import { signControlToken } from '@podlive/shared/tokens';
import type { NodeRef } from './placement';

/** How long the control plane waits for a node's answer to a command. */
export const CONTROL_TIMEOUT_MS = 3000;

/**
 * Closes the live's room on a node (`POST /control/rooms/:id/close`, control token): every peer
 * there gets roomClosed { reason: 'ended' }. Resolves when the node confirmed; rejects when it is
 * unreachable or refuses (the caller decides whether that blocks anything).
 */
export async function closeRoom(node: NodeRef, sessionId: string, secret: string): Promise<void> {
  const token = await signControlToken(secret, node.id);
  const response = await fetch(`${node.controlUrl}/control/rooms/${encodeURIComponent(sessionId)}/close`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`node ${node.id} answered ${response.status} to closing room ${sessionId}`);
}
