import type { Storage } from '@podlive/storage';
import { recordingKeys, recordingManifestSchema, type ManifestSegment, type RecordingManifest, type RenditionId } from '@podlive/shared/recording';

/** Reads a session's manifest from storage: null when there is none (or it is unreadable). */
export async function readManifest(storage: Storage, sessionId: string): Promise<RecordingManifest | null> {
  const object = await storage.get(recordingKeys(sessionId).manifest);
  if (!object) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of object.body) chunks.push(chunk as Buffer);
  const parsed = recordingManifestSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  return parsed.success ? parsed.data : null;
}

/**
 * What has been captured of a live, kept in storage next to the chunks: rewritten after each
 * uploaded chunk, so a restarted recorder and the finishing job know exactly what exists.
 */
export class ManifestStore {
  #m: RecordingManifest;
  readonly #key: string;

  constructor(
    private readonly storage: Storage,
    initial: RecordingManifest,
  ) {
    this.#m = structuredClone(initial);
    this.#key = recordingKeys(initial.sessionId).manifest;
  }

  get current(): RecordingManifest {
    return this.#m;
  }

  #rendition(r: RenditionId) {
    return (this.#m.renditions[r] ??= { width: null, height: null, segments: [] });
  }

  async add(r: RenditionId, segment: ManifestSegment): Promise<void> {
    const segments = this.#rendition(r).segments;
    if (!segments.some((s) => s.index === segment.index)) segments.push(segment);
    await this.save();
  }

  setVideo(r: RenditionId, width: number, height: number): void {
    Object.assign(this.#rendition(r), { width, height });
  }

  async end(): Promise<void> {
    this.#m.endedAt ??= Date.now();
    await this.save();
  }

  save(): Promise<void> {
    return this.storage.put(this.#key, Buffer.from(JSON.stringify(this.#m)), 'application/json');
  }

  /** The multivariant playlist over every rendition with at least one chunk, highest first. */
  masterPlaylist(): string {
    const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
    const entries = Object.entries(this.#m.renditions).filter(([, v]) => v.segments.length > 0).sort(([a], [b]) => b.localeCompare(a));
    for (const [r, v] of entries) {
      const seconds = v.segments.reduce((n, s) => n + s.durationSec, 0);
      const bytes = v.segments.reduce((n, s) => n + s.bytes, 0);
      const bandwidth = Math.max(1, Math.round((bytes * 8) / Math.max(seconds, 0.001)));
      const resolution = v.width && v.height ? `,RESOLUTION=${v.width}x${v.height}` : '';
      lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${bandwidth}${resolution},CODECS="avc1.42e01f,mp4a.40.2"`, `${r}/index.m3u8`);
    }
    return `${lines.join('\n')}\n`;
  }
}
