import type { VapidKey } from '@podlive/shared/social';
import { request } from '$lib/live/request';

/** Whether this browser can do Web Push at all, and what the user said so far. */
export function pushState(): 'unsupported' | NotificationPermission {
  if (typeof window === 'undefined' || !('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) return 'unsupported';
  return Notification.permission;
}

/** applicationServerKey wants the key's bytes; the server gives base64url. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  const raw = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

/**
 * Asks for permission, subscribes this browser with the server's VAPID key and saves the
 * subscription. Resolves with what happened, for the menu to say.
 */
export async function enablePush(): Promise<'enabled' | 'denied' | 'unavailable'> {
  if (pushState() === 'unsupported') return 'unavailable';
  if ((await Notification.requestPermission()) !== 'granted') return 'denied';
  const { publicKey } = await request<VapidKey>('/api/push/vapid-key');
  if (!publicKey) return 'unavailable';
  const registration = await navigator.serviceWorker.ready;
  const subscription =
    (await registration.pushManager.getSubscription()) ??
    (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) }));
  await request('/api/push/subscriptions', { method: 'POST', body: subscription.toJSON() });
  return 'enabled';
}
