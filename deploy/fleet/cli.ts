/**
 * Operating the SFU fleet (npm run fleet -- <command>):
 *
 *   start --id <node> --ip <address> [--port 4443] [--control-ip <address>] [--control-port <port+1>]
 *         [--rtc-port 40000] [--workers N] [--region r] [--log file]
 *       starts one more SFU node on this host (detached), waits until it heartbeats in the registry.
 *       Browsers reach --ip:--port (signalling only); the control plane and the recorder reach
 *       /health and /control on --control-ip (default --ip):--control-port.
 *   list [--json]
 *       every node with its state (up / draining / dead), load and sessions.
 *   drain <node> [--keep-running] [--timeout 300]
 *       the node takes no new viewers and moves its viewers to other nodes (their pages connect
 *       elsewhere first, then leave); then it stops. Waits until it has.
 *   cap <live id> <n | off>
 *       at most n WebRTC viewers for that live (viewers past it get its low-latency HLS, a few
 *       seconds behind, and move back to WebRTC when a slot frees); `off` removes the cap (the
 *       fleet's capacity and LIVE_WEBRTC_CAP still apply). Kept until the live ends.
 *   targets --out <dir> [--watch]
 *       Prometheus' file-based discovery: writes <dir>/server.json, sfu.json and recorder.json from
 *       the metrics targets every process announces (deploy/monitoring); --watch rewrites them every
 *       5 s until stopped.
 *
 * Redis is the only coordination: REDIS_URL (and REDIS_PREFIX) as the nodes and servers use them.
 */
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { DEFAULT_REDIS_PREFIX, fleetKeys, WEBRTC_CAP_FIELD } from '@podlive/shared/fleet';
import { drainNode } from './drain';
import { formatNodes, listNodes } from './registry';
import { startNode } from './start-node';
import { readTargets, writeTargetFiles } from '../monitoring/targets';
import { METRICS_ANNOUNCE_MS } from '@podlive/shared/metrics';

const [command, ...rest] = process.argv.slice(2);
const redisUrl = process.env.REDIS_URL;
if (!redisUrl) {
  console.error('fleet: set REDIS_URL (the Redis the nodes and servers share)');
  process.exit(2);
}
const prefix = process.env.REDIS_PREFIX ?? DEFAULT_REDIS_PREFIX;
const keys = fleetKeys(prefix);
const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });

async function main(): Promise<number> {
  await redis.connect();
  switch (command) {
    case 'list': {
      const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' } } });
      const nodes = await listNodes(redis, keys);
      console.log(values.json ? JSON.stringify(nodes, null, 2) : nodes.length === 0 ? 'no SFU node has registered' : formatNodes(nodes));
      return 0;
    }
    case 'start': {
      const { values } = parseArgs({
        args: rest,
        options: {
          id: { type: 'string' }, ip: { type: 'string' }, port: { type: 'string' }, 'control-ip': { type: 'string' }, 'control-port': { type: 'string' }, 'rtc-port': { type: 'string' }, workers: { type: 'string' }, region: { type: 'string' }, log: { type: 'string' },
        },
      });
      if (!values.id || !values.ip) throw new UsageError('start needs --id <node id> and --ip <address to listen on>');
      const started = await startNode(redis, keys, {
        id: values.id, ip: values.ip, port: Number(values.port ?? 4443), rtcPort: Number(values['rtc-port'] ?? 40000),
        ...(values['control-ip'] ? { controlIp: values['control-ip'] } : {}), ...(values['control-port'] ? { controlPort: Number(values['control-port']) } : {}),
        ...(values.workers ? { workers: Number(values.workers) } : {}), ...(values.region ? { region: values.region } : {}), ...(values.log ? { log: values.log } : {}),
      });
      console.log(`started ${values.id} (pid ${started.pid}) on ${started.publicWsUrl}; log: ${started.log}`);
      return 0;
    }
    case 'drain': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'keep-running': { type: 'boolean' }, timeout: { type: 'string' } } });
      const id = positionals[0];
      if (!id) throw new UsageError('drain needs the node id');
      const outcome = await drainNode(redis, keys, id, {
        stop: !values['keep-running'],
        timeoutMs: Number(values.timeout ?? 300) * 1000,
        progress: (line) => console.log(line),
      });
      console.log(outcome.message);
      return outcome.ok ? 0 : 1;
    }
    case 'cap': {
      const [live, value] = rest;
      if (!live || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(live) || value === undefined) throw new UsageError('cap needs the live id and a number of viewers (or off)');
      if (value === 'off') {
        await redis.hdel(keys.session(live), WEBRTC_CAP_FIELD);
        console.log(`live ${live}: no WebRTC cap of its own`);
        return 0;
      }
      if (!/^\d{1,9}$/.test(value)) throw new UsageError(`cap: ${value} is not a number of viewers (or off)`);
      await redis.hset(keys.session(live), WEBRTC_CAP_FIELD, String(Number(value)));
      console.log(`live ${live}: at most ${Number(value)} WebRTC viewers; the next get its HLS`);
      return 0;
    }
    case 'targets': {
      const { values } = parseArgs({ args: rest, options: { out: { type: 'string' }, watch: { type: 'boolean' } } });
      if (!values.out) throw new UsageError('targets needs --out <directory for the file_sd JSON files>');
      const out = values.out;
      const once = async () => {
        const { targets, stale } = await readTargets(redis, prefix);
        await writeTargetFiles(out, targets);
        return `${Object.entries(targets).map(([job, list]) => `${job} ${list.length}`).join(', ')}${stale.length > 0 ? ` (no heartbeat from ${stale.map((t) => `${t.job}/${t.instance}`).join(', ')})` : ''}`;
      };
      console.log(`targets written to ${out}: ${await once()}`);
      if (!values.watch) return 0;
      const stop = new Promise((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      let last = '';
      while ((await Promise.race([stop.then(() => 'stop'), new Promise((resolve) => setTimeout(resolve, METRICS_ANNOUNCE_MS).unref())])) !== 'stop') {
        const line = await once().catch((err: unknown) => `failed: ${(err as Error).message}`);
        if (line !== last) console.log(`targets: ${line}`);
        last = line;
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command ${command ?? '(none)'}: use start, list, drain, cap or targets`);
  }
}

class UsageError extends Error {}

main()
  .then((code) => (process.exitCode = code))
  .catch((err: unknown) => {
    console.error(`fleet: ${(err as Error).message}`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  })
  .finally(() => redis.disconnect());
