import { encodePath } from '$lib/server/api';
import { relay, requireToken } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** Starts the live: StartLiveResponse (the session and where to publish). */
export const POST: RequestHandler = (event) => relay(`/api/live/${encodePath(event.params.id)}/start`, { method: 'POST', token: requireToken(event) });
