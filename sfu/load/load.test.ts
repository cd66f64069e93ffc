import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MediaNode } from '../src/MediaNode';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { KEYS, testConfig } from '../test/helpers';
import { runLoad } from './cluster';
import { parseOptions } from './options';
import type { LoadReport } from './report';
import { SyntheticPublisher } from './synthetic-publisher';

/** Each load peer's consumers as the node sees them: kind, SSRC and mediasoup's outbound counts. */
async function nodeConsumers(node: MediaNode, session: string) {
  const peers = [...(node.rooms.get(session)?.peers.values() ?? [])].filter((p) => p.claims.sub.startsWith('load:'));
  return Promise.all(
    peers.flatMap((p) =>
      [...p.consumers.values()].map(async (c) => {
        const stats = (await c.getStats()).find((s) => s.type === 'outbound-rtp');
        return { id: c.id, kind: c.kind, ssrc: c.rtpParameters.encodings?.[0]?.ssrc, packets: stats?.packetCount ?? 0, bytes: stats?.byteCount ?? 0 };
      }),
    ),
  );
}

describe('podlive-load', () => {
  let node: MediaNode;
  let publisher: SyntheticPublisher | undefined;
  const args = (session: string, ...more: string[]) =>
    ['--ws', node.url, `--key=${KEYS.privatePem}`, '--node', 'node-t', '--session', session, '--rate', '20', '--duration', '2', '--sample', '10', '--no-progress', ...more];

  beforeAll(async () => {
    node = await MediaNode.start(await testConfig());
  });
  afterEach(() => {
    publisher?.close();
    publisher = undefined;
  });
  afterAll(() => node.close());

  it('joins 5 viewers that receive audio and video, counted as the node counts what it sent them', async () => {
    publisher = await SyntheticPublisher.start({ node, session: 'load-av', key: KEYS.privateKey, videoKbps: 300 });
    let sent: Awaited<ReturnType<typeof nodeConsumers>> = [];
    const report = await runLoad(parseOptions(args('load-av', '--viewers', '5')), {
      beforeClose: async () => {
        publisher?.stopSending();
        await sleep(500); // in flight packets land
        sent = await nodeConsumers(node, 'load-av');
      },
    });
    expect(report.viewers).toEqual({ requested: 5, joined: 5, failed: 0, receiving: 5, verified: 5 });
    // Every viewer got video (an idle machine: ~100 packets each in the 2 s; a loaded CI run: 45 in
    // all, the synthetic publisher starting late). What they got is checked against the node below.
    for (const viewer of report.perViewer) expect(viewer.counts.video.packets).toBeGreaterThan(0);
    expect(report.verification.failed).toBe(0);
    expect(report.joinMs.count).toBe(5);
    expect(sent).toHaveLength(10);
    for (const viewer of report.perViewer) {
      for (const [id, { ssrc, kind }] of Object.entries(viewer.consumers)) {
        const atNode = sent.find((c) => c.id === id);
        expect(atNode).toMatchObject({ kind, ssrc });
        const got = viewer.counts[kind];
        // Within 1 %: the node's counters and ours are read a few ms apart.
        expect(Math.abs(got.packets - atNode!.packets)).toBeLessThanOrEqual(Math.ceil(atNode!.packets * 0.01));
        expect(Math.abs(got.bytes - atNode!.bytes)).toBeLessThanOrEqual(Math.ceil(atNode!.bytes * 0.01));
      }
    }
  });

  it('listen mode consumes audio only', async () => {
    publisher = await SyntheticPublisher.start({ node, session: 'load-listen', key: KEYS.privateKey, videoKbps: 300 });
    let kinds: string[] = [];
    const report = await runLoad(parseOptions(args('load-listen', '--viewers', '3', '--listen')), {
      beforeClose: async () => {
        kinds = (await nodeConsumers(node, 'load-listen')).map((c) => c.kind);
      },
    });
    expect(kinds).toEqual(['audio', 'audio', 'audio']);
    expect(report.viewers).toMatchObject({ joined: 3, receiving: 3 });
    expect(report.received.audio.packets).toBeGreaterThan(0);
    expect(report.received.video.packets).toBe(0);
  });

  it('reports a refused token with its reason instead of crashing', async () => {
    const o = parseOptions(args('load-bad', '--viewers', '2', '--duration', '0'));
    const report = await runLoad({ ...o, source: { ...(o.source as Extract<typeof o.source, { kind: 'mint' }>), key: testKeyPair().privatePem } });
    expect(report.viewers).toMatchObject({ requested: 2, joined: 0, failed: 2 });
    expect(report.failures).toEqual([{ stage: 'signalling', reason: 'refused: 401 media token invalid', count: 2 }]);
  });

  it('the CLI spreads viewers over processes and writes the JSON report', async () => {
    publisher = await SyntheticPublisher.start({ node, session: 'load-cli', key: KEYS.privateKey, videoKbps: 0 });
    const out = join(await mkdtemp(join(tmpdir(), 'podlive-load-')), 'report.json');
    const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args('load-cli', '--viewers', '4', '--processes', '2', '--json', out)]);
    expect(stdout).toMatch(/4\/4 joined, 0 failed, 4 receiving/);
    const report = JSON.parse(await readFile(out, 'utf8')) as LoadReport;
    expect(report.cost.processes).toBe(2);
    expect(new Set(report.perViewer.map((v) => v.index))).toEqual(new Set([0, 1, 2, 3]));
    expect(report.cost.rssKiBPerViewer).toBeGreaterThan(0);
  }, 60_000);
});
