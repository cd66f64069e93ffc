/**
 * What the server needs from the database until @podlive/db is wired in: a probe for /health and
 * shutdown. The db package's handle will be adapted to this (or replace it) in one place, app.ts.
 */
export interface DatabaseHandle {
  /** Resolves when a trivial query (`select 1`) succeeds. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
