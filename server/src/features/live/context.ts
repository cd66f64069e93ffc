import type { TokenSigningKey } from '@podlive/shared/tokens';
import type { TurnConfig } from '../../media/turn';
import type { Db } from '@podlive/db';
import type { LiveSession } from '@podlive/shared/live';
import type { FastifyBaseLogger } from 'fastify';
import type { LiveEvents } from '../../ws/events';
import type { ViewerCounts } from '../../ws/viewer-counts';
import type { NodeRef, Placement } from './placement';

/** A live as the recording of lives needs it. */
export interface RecordedLive {
  sessionId: string;
  hostId: string;
  title: string;
}

/**
 * The recording of lives (features/recordings), as the live lifecycle tells it what happens.
 * Neither call ever makes going live or ending fail: the recorder is told without waiting for it.
 */
export interface LiveRecording {
  /** Lives are recorded (RECORDER_URL is set): a live session shows its live HLS URL. */
  readonly enabled: boolean;
  /** The live went live on `node`, or moved there because its origin died: record from that node. */
  originChosen(live: RecordedLive, node: NodeRef): void;
  /** A live that was live has ended: stop recording; the recording shows as processing. Never rejects. */
  ended(live: RecordedLive): Promise<void>;
}

/**
 * What followers get besides live_started on /ws (features/social: a stored notification, its
 * /ws event, Web Push). Runs in the background: never throws, never delays going live.
 */
export interface FollowerNotices {
  liveStarted(session: LiveSession, followerIds: readonly string[]): void;
}

/** What the live feature works with, passed explicitly (no reaching into the app). */
export interface LiveContext {
  db: Db;
  placement: Placement;
  events: LiveEvents;
  counts: ViewerCounts;
  /** MEDIA_TOKEN_PRIVATE_KEY: media and control tokens. */
  mediaKey: TokenSigningKey;
  /** TURN for the pages the tokens are for (config.turn). */
  turn: TurnConfig | null;
  log: FastifyBaseLogger;
  /** Runs once a live has ended (the stage ends its invites and guests); failures are logged. */
  onEnded?: (sessionId: string) => Promise<void>;
  /** Absent: lives are not recorded. */
  recording?: LiveRecording;
  /** Absent: followers get the /ws event only. */
  notices?: FollowerNotices;
  /** LIVE_WEBRTC_CAP: WebRTC viewers of any one live before the next get its HLS (absent: no cap but the fleet's capacity). */
  webrtcCap?: number;
}

/** Whether lives are recorded (and so have a live HLS playlist). */
export const isRecorded = (ctx: Pick<LiveContext, 'recording'>): boolean => ctx.recording?.enabled === true;
