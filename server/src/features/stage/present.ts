import { type Db, queryRows, sql } from '@podlive/db';
import type { StageInvite, StageInviteStatus, StagePerson } from '@podlive/shared/stage';
import { mediaUrl } from '../../media/routes';

export interface PersonColumns {
  id: string;
  handle: string;
  displayName: string;
  avatarKey: string | null;
}

export const toPerson = (user: PersonColumns): StagePerson => ({
  id: user.id,
  handle: user.handle,
  displayName: user.displayName,
  avatarUrl: mediaUrl(user.avatarKey),
});

export const iso = (value: Date | string): string => new Date(value).toISOString();

/** An invite row with its session title and both people, as loaded by loadInvite. */
export interface InviteRecord {
  invite: StageInvite;
  nodeId: string | null;
  answeredAt: string | null;
}

interface InviteSqlRow extends Record<string, unknown> {
  id: string;
  session_id: string;
  status: StageInviteStatus;
  deadline: Date | string;
  invited_at: Date | string;
  answered_at: Date | string | null;
  node_id: string | null;
  title: string;
  h_id: string;
  h_handle: string;
  h_name: string;
  h_avatar: string | null;
  v_id: string;
  v_handle: string;
  v_name: string;
  v_avatar: string | null;
}

export async function loadInvite(db: Db, inviteId: string): Promise<InviteRecord | null> {
  const [row] = await queryRows<InviteSqlRow>(
    db,
    sql`select i.id, i.session_id, i.status, i.deadline, i.invited_at, i.answered_at, i.node_id, s.title,
          h.id as h_id, h.handle as h_handle, h.display_name as h_name, h.avatar_key as h_avatar,
          v.id as v_id, v.handle as v_handle, v.display_name as v_name, v.avatar_key as v_avatar
        from stage_invites i
        join live_sessions s on s.id = i.session_id
        join users h on h.id = i.host_id
        join users v on v.id = i.invitee_id
        where i.id = ${inviteId}`,
  );
  if (row === undefined) return null;
  return {
    invite: {
      id: row.id,
      sessionId: row.session_id,
      sessionTitle: row.title,
      status: row.status,
      host: toPerson({ id: row.h_id, handle: row.h_handle, displayName: row.h_name, avatarKey: row.h_avatar }),
      invitee: toPerson({ id: row.v_id, handle: row.v_handle, displayName: row.v_name, avatarKey: row.v_avatar }),
      deadline: iso(row.deadline),
      createdAt: iso(row.invited_at),
    },
    nodeId: row.node_id,
    answeredAt: row.answered_at === null ? null : iso(row.answered_at),
  };
}
