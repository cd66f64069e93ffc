import { encodePath } from '$lib/server/api';
import { relay, requireToken } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** Ends the live (the node closes the room; viewers hear live_ended). */
export const POST: RequestHandler = (event) => relay(`/api/live/${encodePath(event.params.id)}/end`, { method: 'POST', token: requireToken(event) });
