import { relations, sql } from 'drizzle-orm';
import {
  bigint, check, index, integer, jsonb, pgEnum, pgTable, text, uniqueIndex, uuid, type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { chatMessages, pinnedMessages } from './chat';
import { createdAt, id, timestamptz, updatedAt } from './columns';
import { stageInvites } from './stage';
import { users } from './users';

export const sessionCategory = pgEnum('session_category', [
  'Music', 'Tech', 'Comedy', 'Sports', 'Education', 'News', 'Business', 'Health', 'Gaming', 'Other',
]);

export const sessionStatus = pgEnum('session_status', ['scheduled', 'live', 'ended']);

/** A live (past, current or planned). Live state (viewers, edges, stage) is in Redis, not here. */
export const liveSessions = pgTable(
  'live_sessions',
  {
    id: id(),
    hostId: uuid('host_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    thumbnailKey: text('thumbnail_key'),
    category: sessionCategory('category').notNull().default('Other'),
    status: sessionStatus('status').notNull().default('scheduled'),
    scheduledAt: timestamptz('scheduled_at'),
    /** SFU node the host produces on (an id from the node registry, so not a foreign key). */
    originNodeId: text('origin_node_id'),
    /** Highest concurrent viewer count seen, written from Redis' live counter. */
    peakViewers: integer('peak_viewers').notNull().default(0),
    /** The recording of this live, once the recorder has created it. */
    recordingId: uuid('recording_id').references((): AnyPgColumn => recordings.id, { onDelete: 'set null' }),
    startedAt: timestamptz('started_at'),
    endedAt: timestamptz('ended_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    /** Lives by status (the "live now" list, newest first; scheduled ones). */
    index('live_sessions_status_started_idx').on(t.status, t.startedAt.desc()),
    /** A host's lives on their profile. */
    index('live_sessions_host_created_idx').on(t.hostId, t.createdAt.desc()),
    /** A host is live in at most one session at a time. */
    uniqueIndex('live_sessions_one_live_per_host_key').on(t.hostId).where(sql`status = 'live'`),
    check('live_sessions_title_check', sql`char_length(${t.title}) between 1 and 200`),
    check('live_sessions_description_check', sql`char_length(${t.description}) <= 2000`),
    check('live_sessions_peak_viewers_check', sql`${t.peakViewers} >= 0`),
  ],
);

export const liveSessionsRelations = relations(liveSessions, ({ one, many }) => ({
  host: one(users, { fields: [liveSessions.hostId], references: [users.id] }),
  recording: one(recordings, { fields: [liveSessions.recordingId], references: [recordings.id] }),
  stageInvites: many(stageInvites),
  chatMessages: many(chatMessages),
  pinnedMessage: one(pinnedMessages),
}));

export const recordingStatus = pgEnum('recording_status', ['processing', 'ready', 'failed']);

/** Private recordings are seen only by their owner, through presigned URLs. */
export const recordingVisibility = pgEnum('recording_visibility', ['public', 'private']);

/** One encoded version of a recording (written by the recorder's finishing job). */
export interface RecordingRendition {
  /** e.g. `720p`, `audio`. */
  name: string;
  /** Storage key of the rendition's MP4. */
  key: string;
  /** Storage key of its VOD media playlist. */
  playlistKey?: string;
  width?: number;
  height?: number;
  bitrateKbps?: number;
}

/** The VOD of a live: at most one per live session. */
export const recordings = pgTable(
  'recordings',
  {
    id: id(),
    sessionId: uuid('session_id')
      .notNull()
      .references(() => liveSessions.id, { onDelete: 'cascade' }),
    /** The host when recorded; kept apart so the profile query needs no join. */
    ownerId: uuid('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The live's title when it ended; the owner may rename it. */
    title: text('title').notNull().default(''),
    visibility: recordingVisibility('visibility').notNull().default('public'),
    status: recordingStatus('status').notNull().default('processing'),
    durationSec: integer('duration_sec'),
    /** Bytes of every stored rendition MP4. */
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    views: integer('views').notNull().default(0),
    renditions: jsonb('renditions').$type<RecordingRendition[]>().notNull().default([]),
    /** The VOD multivariant playlist. */
    masterKey: text('master_key'),
    thumbnailKey: text('thumbnail_key'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('recordings_session_key').on(t.sessionId),
    index('recordings_owner_created_idx').on(t.ownerId, t.createdAt.desc()),
    check('recordings_duration_check', sql`${t.durationSec} >= 0`),
    check('recordings_title_check', sql`char_length(${t.title}) <= 200`),
    check('recordings_views_check', sql`${t.views} >= 0`),
  ],
);

export const recordingsRelations = relations(recordings, ({ one }) => ({
  session: one(liveSessions, { fields: [recordings.sessionId], references: [liveSessions.id] }),
  owner: one(users, { fields: [recordings.ownerId], references: [users.id] }),
}));
