import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/app';
import { loadConfig as load } from '../src/config';

/** A data directory of the test's own: the recorder keeps its active lives and jobs there. */
const loadConfig = (env: Record<string, string>) => load({ DATA_DIR: mkdtempSync(join(tmpdir(), 'podlive-recorder-health-')), ...env });

describe('recorder /health', () => {
  it('is ok when FFmpeg has every codec and format recording needs', async () => {
    const app = await build(loadConfig({}));
    const res = await app.inject({ method: 'GET', url: '/health' });
    await app.close();
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', service: 'recorder', ffmpeg: { ok: true, missing: [] } });
  });

  it('is degraded (503) and names the problem when FFmpeg cannot run', async () => {
    const app = await build(loadConfig({ FFMPEG_PATH: '/nonexistent/ffmpeg' }));
    const res = await app.inject({ method: 'GET', url: '/health' });
    await app.close();
    expect(res.statusCode).toBe(503);
    expect(res.json().ffmpeg.missing[0]).toMatch(/ffmpeg not runnable/);
  });

  it('rejects a bad RECORDER_PORT with a message naming it', () => {
    expect(() => loadConfig({ RECORDER_PORT: 'abc' })).toThrow(/RECORDER_PORT/);
  });
});
