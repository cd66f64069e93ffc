import type * as chat from '@podlive/shared/chat';

/**
 * shared/chat.ts's limits, without loading that module in the page: it builds zod schemas and
 * pulls in the handle rules with their prohibited-word lists (about 200 KB of JavaScript, and
 * most of the viewer page's main-thread work at load, for someone who may never write). The
 * types pin the values: a change there fails the typecheck here.
 */
export const CHAT_MAX_LENGTH: typeof chat.CHAT_MAX_LENGTH = 500;
export const CHAT_HISTORY_LIMIT: typeof chat.CHAT_HISTORY_LIMIT = 100;

let rules: Promise<typeof chat> | null = null;
/** The text rules (chatText), loaded once (again after a failed load): when someone starts writing, at the latest on send. */
export const chatRules = (): Promise<typeof chat> =>
  (rules ??= import('@podlive/shared/chat').catch((err: unknown) => {
    rules = null;
    throw err;
  }));
