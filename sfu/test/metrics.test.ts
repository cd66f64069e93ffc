import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricsTargetsKey } from '@podlive/shared/metrics';
import { CONSUMERS_PER_WORKER } from '@podlive/shared/fleet';
import { MediaNode } from '../src/MediaNode';
import { SyntheticPublisher } from '../load/synthetic-publisher';
import { Viewer } from '../load/viewer';
import { KEYS, rawSocket, refusal, testConfig, token } from './helpers';
import { TestFleet } from './fleet-helpers';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text format, the sample lines only. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of `name`'s samples whose labels include `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);
}

const METRICS_TOKEN = randomBytes(12).toString('hex');
const POLL = { timeout: 20_000, interval: 100 };

describe('the node’s Prometheus endpoint', () => {
  let node: MediaNode;
  let publisher: SyntheticPublisher;
  const viewers: Viewer[] = [];
  // A session id shaped like the real ones (uuids): no label may carry it.
  const session = randomUUID();

  const scrape = async (bearer: string | null = METRICS_TOKEN): Promise<Response> =>
    fetch(`http://${node.metricsAddress}/metrics`, { headers: bearer === null ? {} : { authorization: `Bearer ${bearer}` }, signal: AbortSignal.timeout(10_000) });
  const metrics = async () => {
    const response = await scrape();
    expect(response.status).toBe(200);
    return parse(await response.text());
  };

  beforeAll(async () => {
    node = await MediaNode.start(await testConfig({ SFU_METRICS_SAMPLE_MS: '200', METRICS_TOKEN }));
    publisher = await SyntheticPublisher.start({ node, session, key: KEYS.privateKey, videoKbps: 300 });
    for (let index = 0; index < 2; index++) {
      const viewer = new Viewer({ source: { kind: 'mint', ws: node.publicWsUrl, key: KEYS.privatePem, session, node: 'node-t' }, index, listen: false, sampleEvery: 50 });
      viewers.push(viewer);
      await viewer.join(20_000);
      expect(viewer.result().failure).toBeUndefined();
    }
  });

  afterAll(async () => {
    await Promise.all(viewers.map((v) => v.close()));
    publisher?.close();
    await node?.close();
  });

  it('serves on its own loopback port, named in /health', async () => {
    expect(node.metricsAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const health = (await (await fetch(`${node.internalUrl}/health`)).json()) as { metrics: string };
    expect(health.metrics).toBe(node.metricsAddress);
  });

  it('asks for the bearer token when METRICS_TOKEN is set', async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape('not-the-token')).status).toBe(401);
    expect((await scrape()).status).toBe(200);
  });

  it('counts what the node holds, and, after a sample round, what its consumers sent', async () => {
    // A round that sampled both viewers' consumers (audio and video each), and found video sent.
    const sampled = (m: Sample[]) => value(m, 'podlive_sfu_stats_sampled_consumers') === 4 && value(m, 'podlive_sfu_packets_sent_total', { kind: 'video' }) > 0;
    await expect.poll(async () => sampled(await metrics()), POLL).toBe(true);
    const m = await metrics();
    expect(value(m, 'podlive_sfu_lives')).toBe(1);
    expect(value(m, 'podlive_sfu_viewers')).toBe(2);
    expect(value(m, 'podlive_sfu_peers', { role: 'viewer' })).toBe(2);
    expect(value(m, 'podlive_sfu_peers', { role: 'host' })).toBe(1);
    expect(value(m, 'podlive_sfu_consumers', { kind: 'video' })).toBe(2);
    expect(value(m, 'podlive_sfu_consumers', { kind: 'audio' })).toBe(2);
    expect(value(m, 'podlive_sfu_producers', { kind: 'video' })).toBe(1);
    expect(value(m, 'podlive_sfu_routers')).toBe(1);
    expect(value(m, 'podlive_sfu_transports', { type: 'webrtc' })).toBe(2);
    expect(value(m, 'podlive_sfu_transports', { type: 'plain' })).toBe(1); // the synthetic host's
    expect(value(m, 'podlive_sfu_bytes_sent_total', { kind: 'audio' })).toBeGreaterThan(value(m, 'podlive_sfu_packets_sent_total', { kind: 'audio' }));
    expect(value(m, 'podlive_sfu_keyframe_requests_total')).toBeGreaterThanOrEqual(2); // each viewer's video consumer, resumed
    expect(value(m, 'podlive_sfu_joins_total', { role: 'viewer', result: 'ok' })).toBe(2);
    expect(value(m, 'podlive_sfu_joins_total', { role: 'host', result: 'ok' })).toBe(1);
    expect(value(m, 'podlive_sfu_capacity_consumers')).toBe(CONSUMERS_PER_WORKER);
    expect(value(m, 'podlive_sfu_capacity_used_ratio')).toBeGreaterThan(0);
    expect(value(m, 'podlive_sfu_draining')).toBe(0);
    expect(value(m, 'podlive_sfu_pipe_transports')).toBe(0);
    expect(m.some((s) => s.name === 'podlive_sfu_worker_cpu_ratio' && s.labels.worker === '0' && s.value >= 0)).toBe(true);
    expect(value(m, 'podlive_sfu_worker_memory_bytes', { worker: '0' })).toBeGreaterThan(1_000_000);
    const score = value(m, 'podlive_sfu_consumer_score_avg');
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(10);
    expect(value(m, 'podlive_sfu_consumer_loss_ratio')).toBeGreaterThanOrEqual(0);
  });

  it('counts refused joins by role and status', async () => {
    const before = await metrics();
    expect(await refusal(rawSocket(node.url, 'token=not-a-token'))).toBe(401);
    expect(await refusal(rawSocket(node.url, `token=${await token({ sid: session, node: 'node-elsewhere' })}`))).toBe(403);
    const after = await metrics();
    const grew = (labels: Record<string, string>) => value(after, 'podlive_sfu_joins_total', labels) - value(before, 'podlive_sfu_joins_total', labels);
    expect(grew({ role: 'unknown', result: '401' })).toBe(1);
    expect(grew({ role: 'unknown', result: '403' })).toBe(1); // wrong_node: refused while reading the token
  });

  it('no label carries an id, and only the agreed label names are used', async () => {
    const m = await metrics();
    const ours = m.filter((s) => s.name.startsWith('podlive_sfu_'));
    expect(ours.length).toBeGreaterThan(20);
    for (const s of ours) for (const key of Object.keys(s.labels)) expect(['worker', 'kind', 'role', 'result', 'type']).toContain(key);
    const ids = [session, ...viewers.flatMap((v) => Object.keys(v.result().consumers)), ...publisher.producers.map((p) => p.id)];
    for (const s of m) {
      for (const label of Object.values(s.labels)) {
        expect(label).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/i);
        expect(label).not.toMatch(/^(?=.*\d)[\w-]{16,}$/); // long and random-looking
        expect(label).not.toMatch(/[#:]/);
        expect(ids).not.toContain(label);
      }
    }
  });

  it('counters never go down, even when a consumer closes between two scrapes', async () => {
    const before = await metrics();
    const gone = viewers.pop()!;
    await gone.close();
    // A round after the close (only the remaining viewer's two consumers sampled), then one more.
    await expect.poll(async () => value(await metrics(), 'podlive_sfu_stats_sampled_consumers'), POLL).toBe(2);
    const packets = value(await metrics(), 'podlive_sfu_packets_sent_total');
    await expect.poll(async () => value(await metrics(), 'podlive_sfu_packets_sent_total'), POLL).toBeGreaterThan(packets);
    const after = await metrics();
    const counters = before.filter((s) => s.name.startsWith('podlive_sfu_') && s.name.endsWith('_total'));
    expect(counters.length).toBeGreaterThan(8);
    for (const s of counters) expect(value(after, s.name, s.labels), `${s.name} ${JSON.stringify(s.labels)}`).toBeGreaterThanOrEqual(s.value);
    expect(value(after, 'podlive_sfu_viewers')).toBe(1);
    expect(value(after, 'podlive_sfu_consumers')).toBe(2);
  });
});

describe('the metrics of a node in a fleet', () => {
  let fleet: TestFleet;
  const publishers: SyntheticPublisher[] = [];
  afterAll(async () => {
    for (const p of publishers) p.close();
    await fleet?.close();
  });

  it('announces its endpoint to Prometheus\' discovery in Redis while it runs, removes it as it closes, and sums its pipes\' bitrates', async () => {
    fleet = new TestFleet();
    const env = { SFU_METRICS_SAMPLE_MS: '200' };
    const origin = await fleet.add('a', '127.0.0.11', env);
    await fleet.add('b', '127.0.0.12', env);
    const target = async (id: string) => JSON.parse((await fleet.redis.hget(metricsTargetsKey(fleet.prefix), `sfu/${id}`)) ?? 'null') as unknown;
    await expect.poll(() => target('a'), POLL).toMatchObject({ job: 'sfu', instance: 'a', address: origin.metricsAddress });

    await fleet.setOrigin('f1', 'a');
    publishers.push(await SyntheticPublisher.start({ node: origin, session: 'f1', key: KEYS.privateKey, videoKbps: 300 }));
    const watching = fleet.viewers('b', 'f1', 1, 3);
    const sending = async () => {
      const m = parse(await origin.metrics.registry.metrics());
      return value(m, 'podlive_sfu_pipe_transports') === 1 && value(m, 'podlive_sfu_pipe_send_bits_per_second') > 0;
    };
    await expect.poll(sending, POLL).toBe(true);
    await expect.poll(async () => value(parse(await fleet.node('b').metrics.registry.metrics()), 'podlive_sfu_pipe_recv_bits_per_second'), POLL).toBeGreaterThan(0);
    expect((await watching).viewers).toMatchObject({ joined: 1, failed: 0 });

    await origin.close();
    expect(await target('a')).toBeNull();
    expect(await target('b')).not.toBeNull();
  });
});
