import { relay } from '$lib/server/relay';
import type { RequestHandler } from './$types';

/** The server's VAPID public key (null when Web Push is off). */
export const GET: RequestHandler = () => relay('/api/push/vapid-key', {});
