/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />

/**
 * PodLive's service worker: Web Push only (a followed host went live). No fetch handler: pages
 * and media always come from the network.
 */
const sw = self as unknown as ServiceWorkerGlobalScope;

interface PushPayload {
  title?: string;
  body?: string;
  url?: string;
}

sw.addEventListener('push', (event) => {
  let payload: PushPayload = {};
  try {
    payload = (event.data?.json() ?? {}) as PushPayload;
  } catch {
    payload = { body: event.data?.text() };
  }
  event.waitUntil(sw.registration.showNotification(payload.title ?? 'PodLive', { body: payload.body ?? '', data: { url: payload.url ?? '/' }, tag: payload.url }));
});

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(String((event.notification.data as { url?: string } | null)?.url ?? '/'), sw.location.origin);
  // Only this site's pages open from a notification.
  const target = url.origin === sw.location.origin ? url.href : sw.location.origin;
  event.waitUntil(sw.clients.openWindow(target));
});
