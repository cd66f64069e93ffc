/**
 * Glass-to-glass latency in real Chromium: web/src/routes/dev/latency-publish paints the sender's
 * clock into its camera frames, latency-watch reads it back from every decoded frame
 * (requestVideoFrameCallback). Two SFU node processes form a fleet over Redis, started the way an
 * operator does (`npm run fleet -- start`, web/test/fleet-nodes): the sender publishes to the origin
 * `a`; one viewer watches on `a`, the other on the edge `b`, which the fleet feeds from `a` through
 * a cross-process PipeTransport pair (SRTP, as in production). Both viewers watch at the same time.
 */
import type { Browser, Page } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import { signMediaToken, type MediaRole } from '@podlive/shared/tokens';
import { launchChromium } from '@podlive/shared/testing/chromium';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { FleetNodes } from '../../web/test/fleet-nodes';
import { startWebServer } from '../../web/test/web-server';
import { writeResult } from './lib/result';
import { ratio, sleep, summarize, until } from './lib/stats';

const SESSION = `g2g-${randomBytes(3).toString('hex')}`;
const SAMPLES = 400;
type LatencyWindow = { podliveLatency?: { samples: number[]; unreadable(): number } };

const t0 = performance.now();
const keys = testKeyPair();
const nodes = new FleetNodes(keys, { LOG_LEVEL: 'warn' });
const notMeasured: string[] = [];
let browser: Browser | undefined;
let web: Awaited<ReturnType<typeof startWebServer>> | undefined;
let one: Samples = { samples: [], unreadable: 0 };
let cross: Samples = { samples: [], unreadable: 0 };
let edgeParent: string | undefined;

interface Samples {
  samples: number[];
  unreadable: number;
}

const read = (page: Page): Promise<Samples> => page.evaluate(() => {
  const probe = (window as LatencyWindow).podliveLatency;
  return { samples: [...(probe?.samples ?? [])], unreadable: probe?.unreadable() ?? 0 };
});

try {
  // Each node on a loopback address of its own, as on two hosts; `a` is the session's origin.
  await Promise.all([nodes.start('a', '127.0.0.21'), nodes.start('b', '127.0.0.22')]);
  await nodes.redis.hset(nodes.keys.session(SESSION), 'origin', 'a');
  const wsOf = async (id: string) => (await until(() => nodes.status(id).then((s) => s ?? undefined), `node ${id}'s status`)).publicWsUrl;
  const [wsA, wsB] = await Promise.all([wsOf('a'), wsOf('b')]);
  [web, browser] = await Promise.all([startWebServer(), launchChromium()]);
  const open = async (path: string, ws: string, node: string, role: MediaRole, sub: string) => {
    const token = await signMediaToken(keys.privateKey, { sid: SESSION, sub, role, node });
    const page = await (await browser!.newContext()).newPage();
    await page.goto(`${web!.url}/dev/${path}?ws=${encodeURIComponent(`${ws}/?token=${encodeURIComponent(token)}`)}`);
    return page;
  };

  const sender = await open('latency-publish', wsA, 'a', 'host', 'sender');
  await sender.getByText('Publishing the clock').waitFor({ timeout: 30_000 });
  const viewerA = await open('latency-watch', wsA, 'a', 'viewer', 'viewer-a');
  const viewerB = await open('latency-watch', wsB, 'b', 'viewer', 'viewer-b');
  const deadline = Date.now() + 90_000;
  for (;;) {
    [one, cross] = await Promise.all([read(viewerA), read(viewerB)]);
    if ((one.samples.length >= SAMPLES && cross.samples.length >= SAMPLES) || Date.now() > deadline) break;
    await sleep(1000);
  }
  edgeParent = (await nodes.status('b'))?.sessions[SESSION]?.parent;
  if (edgeParent !== 'a') notMeasured.push(`cross-node: node b reported its parent as ${edgeParent ?? 'none'}, not a`);
  if (one.samples.length === 0) notMeasured.push('one node: the viewer on the origin decoded no readable frame within 90 s');
  if (cross.samples.length === 0) notMeasured.push('cross-node: the viewer on the edge decoded no readable frame within 90 s');
} catch (err) {
  notMeasured.push(`the run failed: ${(err as Error).message}`);
} finally {
  await browser?.close();
  await web?.stop();
  await nodes.close();
}

const oneNode = one.samples.length ? { ...summarize(one.samples), unreadable: one.unreadable } : null;
const crossNode = cross.samples.length ? { ...summarize(cross.samples), unreadable: cross.unreadable } : null;
await writeResult({
  name: 'glass-to-glass',
  title: 'Glass-to-glass latency (Chromium)',
  method: `Debian's Chromium (headless, fake camera) runs web/src/routes/dev/latency-publish, which paints Date.now() as a code into its video frames and publishes H.264 simulcast + Opus. Viewers run latency-watch and read the code back from each decoded frame at presentation (requestVideoFrameCallback); latency = now − painted time (same machine, same clock). Two SFU node processes (one worker each) started with the operator script (npm run fleet -- start) on 127.0.0.21 and 127.0.0.22, coordinated over Redis: the sender publishes to the origin a; one viewer watches on a, the other on the edge b, which the fleet attaches to a and feeds through a PipeTransport pair between the two processes (SRTP on, RTX/NACK) — the production path between two hosts, over loopback. Both viewers watch at the same time, until ${SAMPLES} frames each or 90 s. Cross-node/one-node is the ratio of the same percentile in the same run.`,
  notMeasured,
  wallSeconds: Math.round((performance.now() - t0) / 1000),
  // The report reads one-node figures whenever there is data: without them, there is none.
  data: oneNode && {
    oneNode,
    crossNode,
    edgeParent: edgeParent ?? null,
    ratioCrossToOne: crossNode ? { p50: ratio(crossNode.p50, oneNode.p50), p95: ratio(crossNode.p95, oneNode.p95), p99: ratio(crossNode.p99, oneNode.p99) } : null,
  },
});
process.exit(0);
