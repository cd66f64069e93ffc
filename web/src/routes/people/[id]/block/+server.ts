import { encodePath } from '$lib/server/api';
import { relay, requireToken } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** Blocks (POST) or unblocks (DELETE) a user: /api/users/:id/block with the signed-in user's token. */
const block = (method: 'POST' | 'DELETE'): RequestHandler => async (event) =>
  relay(`/api/users/${encodePath(event.params.id)}/block`, { method, token: requireToken(event) });

export const POST = block('POST');
export const DELETE = block('DELETE');
