import type { StageAcceptResponse, StageGuest, StageInvite, StageSuggestion } from '@podlive/shared/stage';
import { request } from '$lib/live/request';

/** The stage calls of the browser, straight to /api/stage (shared/src/stage.ts). */
export const stageApi = {
  invite: (sessionId: string, handle: string) => request<{ invite: StageInvite }>('/api/stage/invite', { method: 'POST', body: { sessionId, handle } }),
  accept: (inviteId: string) => request<StageAcceptResponse>(`/api/stage/invite/${encodeURIComponent(inviteId)}/accept`, { method: 'POST', body: {} }),
  reject: (inviteId: string, reason: 'declined' | 'permission_denied' = 'declined') =>
    request<unknown>(`/api/stage/invite/${encodeURIComponent(inviteId)}/reject`, { method: 'POST', body: { reason } }),
  leave: (sessionId: string, reason: 'left' | 'permission_denied' = 'left') => request<unknown>('/api/stage/leave', { method: 'POST', body: { sessionId, reason } }),
  mute: (sessionId: string, userId: string, muted: boolean) =>
    request<unknown>(`/api/stage/guest/${encodeURIComponent(userId)}/mute`, { method: 'POST', body: { sessionId, muted } }),
  remove: (sessionId: string, userId: string) =>
    request<unknown>(`/api/stage/guest/${encodeURIComponent(userId)}?sessionId=${encodeURIComponent(sessionId)}`, { method: 'DELETE' }),
  guests: (sessionId: string) => request<StageGuest[]>(`/api/stage/${encodeURIComponent(sessionId)}/guests`),
  suggestions: (sessionId: string, q: string, signal?: AbortSignal) =>
    request<StageSuggestion[]>(`/api/stage/${encodeURIComponent(sessionId)}/suggestions?q=${encodeURIComponent(q)}`, { signal }),
};
