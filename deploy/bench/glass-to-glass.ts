/**
 * Glass-to-glass latency in real Chromium: web/src/routes/dev/latency-publish paints the sender's
 * clock into its camera frames, latency-watch reads it back from every decoded frame
 * (requestVideoFrameCallback). Two viewers watch the same sender at the same time: one on the
 * sender's node, one on a second node whose room gets the producers through
 * router.pipeToRouter (PipeTransports between two MediaNodes' workers in this process).
 */
import type { Page } from 'playwright-core';
import { signMediaToken } from '@podlive/shared/tokens';
import { freeRtcPortBase } from '@podlive/shared/testing/ports';
import { writeResult } from './lib/result';
import { ratio, sleep, summarize, until } from './lib/stats';

process.env.LOG_LEVEL ??= 'warn';
const { MediaNode } = await import('@podlive/sfu');
const { loadConfig } = await import('@podlive/sfu/config');
const { openSignalling } = await import('../../sfu/load/join-source');
const { startMediaRig } = await import('../../web/test/media-rig');

const SESSION = 'g2g';
const SAMPLES = 400;
const SECRET_B = 'bench-node-b-secret-bench-node-b-secret-0123';
type LatencyWindow = { podliveLatency?: { samples: number[]; unreadable(): number } };

const t0 = performance.now();
const rig = await startMediaRig(SESSION);
const notMeasured: string[] = [];
let crossSamples: number[] = [];
let crossUnreadable = 0;
const sender = await rig.open('latency-publish', 'host', 'sender');
await sender.getByText('Publishing the clock').waitFor({ timeout: 30_000 });

// Node B, with the sender's producers piped from node A's room router into node B's.
const nodeB = await MediaNode.start(loadConfig({ SFU_PORT: '0', SFU_WORKERS: '1', SFU_NODE_ID: 'b', MEDIA_TOKEN_SECRET: SECRET_B, RTC_PORT_BASE: String(await freeRtcPortBase(1)) }));
let crossPage: Page | undefined;
try {
  const roomA = rig.node.rooms.get(SESSION);
  const hostA = roomA && [...roomA.peers.values()].find((p) => p.claims.sub === 'sender');
  if (!roomA || !hostA) throw new Error('sender not found on node A');
  await until(() => (hostA.producers.size >= 1 ? true : undefined), 'the sender’s producers', 15_000);
  await sleep(1000); // an audio producer, if the page publishes one, lands too
  const relayToken = await signMediaToken(SECRET_B, { sid: SESSION, sub: 'relay', role: 'host', node: 'b' });
  await openSignalling({ url: nodeB.url, token: relayToken });
  const roomB = nodeB.rooms.get(SESSION);
  const relay = roomB && [...roomB.peers.values()].find((p) => p.claims.sub === 'relay');
  if (!roomB || !relay) throw new Error('relay peer not found on node B');
  for (const producer of hostA.producers.values()) {
    const { pipeProducer } = await roomA.router.pipeToRouter({ producerId: producer.id, router: roomB.router });
    if (!pipeProducer) throw new Error('pipeToRouter gave no producer');
    relay.producers.set(pipeProducer.id, pipeProducer);
    roomB.broadcast('newProducer', { producerId: pipeProducer.id, peerId: relay.id, kind: pipeProducer.kind }, relay);
  }
  const token = await signMediaToken(SECRET_B, { sid: SESSION, sub: 'viewer-b', role: 'viewer', node: 'b' });
  const ws = `${nodeB.url.replace('http', 'ws')}/?token=${encodeURIComponent(token)}`;
  crossPage = await (await rig.browser.newContext()).newPage();
  await crossPage.goto(`${rig.web.url}/dev/latency-watch?ws=${encodeURIComponent(ws)}`);
} catch (err) {
  notMeasured.push(`cross-node: not measured (${(err as Error).message})`);
}

const viewer = await rig.open('latency-watch', 'viewer', 'viewer-a');
const read = (page: Page) => page.evaluate(() => {
  const probe = (window as LatencyWindow).podliveLatency;
  return { samples: [...(probe?.samples ?? [])], unreadable: probe?.unreadable() ?? 0 };
});
const deadline = Date.now() + 90_000;
let one = await read(viewer);
for (;;) {
  one = await read(viewer);
  const cross = crossPage ? await read(crossPage) : { samples: [], unreadable: 0 };
  crossSamples = cross.samples;
  crossUnreadable = cross.unreadable;
  if ((one.samples.length >= SAMPLES && (!crossPage || crossSamples.length >= SAMPLES)) || Date.now() > deadline) break;
  await sleep(1000);
}
if (crossPage && crossSamples.length === 0) notMeasured.push('cross-node: the viewer on node B decoded no readable frame within 90 s');
await rig.stop();
await nodeB.close();

const oneNode = { ...summarize(one.samples), unreadable: one.unreadable };
const crossNode = crossSamples.length ? { ...summarize(crossSamples), unreadable: crossUnreadable } : null;
await writeResult({
  name: 'glass-to-glass',
  title: 'Glass-to-glass latency (Chromium)',
  method: `Debian's Chromium (headless, fake camera) runs web/src/routes/dev/latency-publish, which paints Date.now() as a code into its video frames and publishes H.264 simulcast + Opus to node A (one worker). Viewers run latency-watch and read the code back from each decoded frame at presentation (requestVideoFrameCallback); latency = now − painted time (same machine, same clock). Two viewers watch at the same time: one on node A; one on node B, a second MediaNode whose room router gets the sender's producers through router.pipeToRouter (a PipeTransport pair between the two nodes' workers, both in this process, over 127.0.0.1 — what a cross-node pipe does, without the fleet's placement). Samples: until ${SAMPLES} frames each or 90 s. Cross-node/one-node is the ratio of the same percentile, measured in the same run.`,
  notMeasured,
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  data: {
    oneNode,
    crossNode,
    ratioCrossToOne: crossNode ? { p50: ratio(crossNode.p50, oneNode.p50), p95: ratio(crossNode.p95, oneNode.p95), p99: ratio(crossNode.p99, oneNode.p99) } : null,
  },
});
process.exit(0);
