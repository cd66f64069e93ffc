import type { WsEvent } from '@podlive/shared/ws';
import type { AppNotification, NotificationsPage } from '@podlive/shared/social';
import { nowIso } from '$lib/live/format';
import { request } from '$lib/live/request';

/** A followed host's live, announced by /ws while this page is open. */
export interface LiveNotice {
  sessionId: string;
  title: string;
  host: { handle: string; displayName: string };
}

/** At most this many toasts at once, newest first. */
const MAX_NOTICES = 3;

/**
 * The signed-in user's notifications as the header and the toasts show them: the stored list and
 * unread count (GET /api/notifications), kept current by the user's /ws events.
 */
export class Inbox {
  items: AppNotification[] = $state([]);
  unread = $state(0);
  /** live_started toasts (they also land in `items` as stored notifications). */
  live: LiveNotice[] = $state([]);
  problem: string | null = $state(null);

  async load(): Promise<void> {
    try {
      const page = await request<NotificationsPage>('/api/notifications');
      this.items = page.items;
      this.unread = page.unread;
      this.problem = null;
    } catch (err) {
      this.problem = `Notifications could not be loaded (${err instanceof Error ? err.message : String(err)}).`;
    }
  }

  apply(event: WsEvent): void {
    if (event.type === 'notification') {
      this.items = [event.notification, ...this.items.filter((n) => n.id !== event.notification.id)].slice(0, 50);
      this.unread = event.unread;
    } else if (event.type === 'live_started') {
      // To followers' connections (and a waiting viewer page's: not a toast there, it starts playing).
      const { id, title, host } = event.session;
      if (location.pathname === `/live/${id}`) return;
      this.live = [{ sessionId: id, title, host }, ...this.live.filter((n) => n.sessionId !== id)].slice(0, MAX_NOTICES);
    }
  }

  dismissLive(sessionId: string): void {
    this.live = this.live.filter((n) => n.sessionId !== sessionId);
  }

  async markAllRead(): Promise<void> {
    try {
      await request('/api/notifications/read', { method: 'POST', body: { all: true } });
      const now = nowIso();
      this.items = this.items.map((n) => (n.readAt ? n : { ...n, readAt: now }));
      this.unread = 0;
    } catch (err) {
      this.problem = `Could not mark them read (${err instanceof Error ? err.message : String(err)}).`;
    }
  }
}
