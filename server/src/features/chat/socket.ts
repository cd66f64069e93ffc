import type { Db } from '@podlive/db';
import type { ConnectionChat as WsConnectionChat } from '../../ws/connection';
import type { ServerMetrics } from '../../metrics';
import type { LiveEvents } from '../../ws/events';
import { blockedIds } from './access';
import { ChatLimits, type ChatLimitsOptions } from './limits';
import { sendChat } from './send';

/** What a /ws connection asks of chat, and the limits' Redis connection to close with the app. */
export interface ConnectionChat extends WsConnectionChat {
  close(): Promise<void>;
}

/** Chat for the /ws connections of this replica (the limits hold a Redis connection in a fleet). */
export function createConnectionChat(options: { db: Db; events: LiveEvents; metrics: Pick<ServerMetrics, 'chatSent'> } & ChatLimitsOptions): ConnectionChat {
  const limits = new ChatLimits(options);
  const ctx = { db: options.db, events: options.events, limits };
  return {
    send: async (userId, message) => {
      const refused = await sendChat(ctx, userId, message);
      options.metrics.chatSent(refused?.code);
      return refused;
    },
    blockedIds: (userId) => blockedIds(options.db, userId),
    close: () => limits.close(),
  };
}
