import type { ChatMessage, ChatRestriction, ChatState, ChatWsEvent } from '@podlive/shared/chat';
import type { WsEvent } from '@podlive/shared/ws';
import { request, RequestFailure } from '$lib/live/request';
import type { LiveSocket } from '$lib/ws';
import { CHAT_HISTORY_LIMIT, chatRules } from './limits';

/** A message sent but not yet acknowledged: resent with the same clientId until it is. */
interface Pending {
  clientId: string;
  body: string;
  attempts: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const RESEND_AFTER_MS = 4000;
const MAX_ATTEMPTS = 4;

/**
 * One live's chat as a page sees it: the history, then what /ws brings (new, deleted and pinned
 * messages, restrictions), the messages this page is sending, and the moderation calls. Text is
 * only ever rendered as text by the components (Svelte escapes it).
 */
export class ChatRoom {
  messages: ChatMessage[] = $state([]);
  pinned: ChatMessage | null = $state(null);
  canModerate = $state(false);
  restriction: ChatRestriction | null = $state(null);
  /** Others timed out or banned while this page watched (moderators see Unban for them). */
  restricted: Record<string, ChatRestriction> = $state({});
  /** Why the last message or action was refused, for the person who tried. */
  problem: string | null = $state(null);
  loaded = $state(false);
  /** Not rendered: a plain record keyed by clientId. */
  readonly #pending: Record<string, Pending> = {};

  constructor(
    readonly sessionId: string,
    readonly userId: string | null,
    private readonly socket: () => LiveSocket | null,
  ) {}

  async load(): Promise<void> {
    try {
      const state = await request<ChatState>(`/api/live/${this.sessionId}/chat`);
      // Events that came while loading are kept: the history is merged under them.
      const seen = this.messages.map((m) => m.id);
      this.messages = [...state.messages.filter((m) => !seen.includes(m.id)), ...this.messages].slice(-CHAT_HISTORY_LIMIT * 2);
      this.pinned = state.pinned;
      this.canModerate = state.canModerate;
      this.restriction = state.restriction;
      this.loaded = true;
    } catch (err) {
      this.problem = `The chat could not be loaded (${err instanceof Error ? err.message : String(err)}).`;
    }
  }

  /** Sends `text`; false (with `problem` set) when it is refused here already. */
  async send(text: string): Promise<boolean> {
    let rules: Awaited<ReturnType<typeof chatRules>>;
    try {
      rules = await chatRules();
    } catch (err) {
      this.problem = `Your message could not be sent (${err instanceof Error ? err.message : String(err)}). Try again in a moment.`;
      return false;
    }
    const parsed = rules.chatText.safeParse(text);
    if (!parsed.success) {
      this.problem = parsed.error.issues[0]?.message ?? 'This message cannot be sent';
      return false;
    }
    this.problem = null;
    const pending: Pending = { clientId: crypto.randomUUID(), body: parsed.data, attempts: 0, timer: undefined };
    this.#pending[pending.clientId] = pending;
    this.#attempt(pending);
    return true;
  }

  #attempt(pending: Pending): void {
    if (!(pending.clientId in this.#pending)) return;
    if (pending.attempts >= MAX_ATTEMPTS) {
      delete this.#pending[pending.clientId];
      this.problem = 'Your message could not be sent: the connection is down. Try again in a moment.';
      return;
    }
    pending.attempts++;
    this.socket()?.sendChat(this.sessionId, pending.clientId, pending.body);
    pending.timer = setTimeout(() => this.#attempt(pending), RESEND_AFTER_MS);
  }

  /** Every /ws event of the page goes through here; the chat takes its own. */
  apply(event: WsEvent): void {
    if (!event.type.startsWith('chat_')) return;
    const chat = event as ChatWsEvent;
    if (chat.sessionId !== this.sessionId) return;
    switch (chat.type) {
      case 'chat_message':
        if (!this.messages.some((m) => m.id === chat.message.id)) this.messages = [...this.messages, chat.message].slice(-CHAT_HISTORY_LIMIT * 2);
        break;
      case 'chat_ack':
        if (!this.messages.some((m) => m.id === chat.message.id)) this.messages = [...this.messages, chat.message];
      // falls through: the pending send is settled either way
      case 'chat_refused': {
        clearTimeout(this.#pending[chat.clientId]?.timer);
        delete this.#pending[chat.clientId];
        if (chat.type === 'chat_refused') this.problem = chat.message;
        break;
      }
      case 'chat_deleted':
        this.messages = this.messages.filter((m) => m.id !== chat.messageId);
        if (this.pinned?.id === chat.messageId) this.pinned = null;
        break;
      case 'chat_pinned':
        this.pinned = chat.message;
        break;
      case 'chat_restricted': {
        if (chat.userId === this.userId) this.restriction = chat.restriction;
        const { [chat.userId]: _previous, ...others } = this.restricted;
        this.restricted = chat.restriction ? { ...others, [chat.userId]: chat.restriction } : others;
        break;
      }
      case 'chat_moderator':
        if (chat.userId === this.userId) this.canModerate = chat.moderator;
        break;
    }
  }

  pin = (message: ChatMessage) => this.#moderate('POST', `chat/${message.id}/pin`);
  unpin = () => this.#moderate('DELETE', 'chat/pin');
  remove = (message: ChatMessage) => this.#moderate('DELETE', `chat/${message.id}`);
  timeOut = (message: ChatMessage) => this.#moderate('POST', 'chat/timeouts', { userId: message.author.id });
  ban = (message: ChatMessage) => this.#moderate('POST', 'chat/bans', { userId: message.author.id });
  unban = (userId: string) => this.#moderate('DELETE', `chat/bans/${encodeURIComponent(userId)}`);
  appoint = (message: ChatMessage) => this.#moderate('PUT', `moderators/${message.author.id}`);

  /** A moderation call, `path` under /api/live/:id (shared/src/chat.ts). */
  async #moderate(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<void> {
    try {
      await request(`/api/live/${this.sessionId}/${path}`, { method, ...(body === undefined ? {} : { body }) });
      this.problem = null;
    } catch (err) {
      this.problem = err instanceof RequestFailure ? err.message : String(err);
    }
  }

  dispose(): void {
    for (const [clientId, pending] of Object.entries(this.#pending)) {
      clearTimeout(pending.timer);
      delete this.#pending[clientId];
    }
  }
}
