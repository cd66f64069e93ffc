import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { fleetKeys, type FleetKeys } from '@podlive/shared/fleet';
import { MediaNode } from '../src/MediaNode';
import { runLoad } from '../load/cluster';
import { parseOptions } from '../load/options';
import type { LoadReport } from '../load/report';
import { KEYS, testConfig } from './helpers';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Several media nodes in this process forming one fleet over the real Redis (a key prefix of
 * their own), each on its own loopback address (127.0.0.11, .12, ...) like hosts of a network.
 * The pipes between them are real PipeTransports between separate mediasoup worker processes.
 */
export class TestFleet {
  readonly nodes = new Map<string, MediaNode>();
  readonly redis = new Redis(REDIS_URL);
  readonly prefix = `podlive-test:${randomBytes(6).toString('hex')}:`;
  readonly keys: FleetKeys = fleetKeys(this.prefix);

  async add(id: string, address: string, env: Record<string, string> = {}): Promise<MediaNode> {
    const node = await MediaNode.start(
      await testConfig({ SFU_NODE_ID: id, SFU_HOST: address, RTC_LISTEN_IP: address, REDIS_URL, REDIS_PREFIX: this.prefix, SFU_WORKERS: '1', ...env }),
    );
    this.nodes.set(id, node);
    return node;
  }

  node(id: string): MediaNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /** What the control plane does when a live starts (or resumes) on `origin`. */
  async setOrigin(sid: string, origin: string): Promise<void> {
    await this.redis.multi().del(this.keys.session(sid)).hset(this.keys.session(sid), 'origin', origin).exec();
  }

  /** Headless viewers (podlive-load) on one node, minted tokens for that node. */
  viewers(nodeId: string, sid: string, count: number, durationSec = 2, hooks: Parameters<typeof runLoad>[1] = {}): Promise<LoadReport> {
    const node = this.node(nodeId);
    const args = ['--ws', node.url, `--key=${KEYS.privatePem}`, '--node', nodeId, '--session', sid, '--viewers', String(count), '--rate', '20', '--duration', String(durationSec), '--sample', '10', '--no-progress'];
    return runLoad(parseOptions(args), hooks);
  }

  async close(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.close()));
    const keys = await this.redis.keys(`${this.prefix}*`);
    if (keys.length > 0) await this.redis.del(...keys);
    this.redis.disconnect();
  }
}
