import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { FLEET_RPC_TIMEOUT_MS, nodeMessageSchema, type FleetKeys, type NodeMessage } from '@podlive/shared/fleet';
import { moduleLogger } from '../Logger';

const logger = moduleLogger('NodeBus');

type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A message without the fields the bus fills in. */
type Outgoing = OmitEach<NodeMessage, 'from'>;
type Request = OmitEach<Extract<NodeMessage, { type: 'pipe.open' }>, 'from' | 'reqId'>;

/**
 * Node-to-node messages over Redis pub/sub: each node listens on its own channel, sends to
 * another's, and requests wait for the reply carrying their `reqId`. Every message is checked
 * against the shared schema; anything else is dropped with a warning. One connection publishes
 * (and runs the registry's commands), a second one only subscribes (Redis allows nothing else on it).
 */
export class NodeBus {
  readonly #pending = new Map<string, { resolve: (data: unknown) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  #closed = false;

  private constructor(
    readonly redis: Redis,
    readonly subscriber: Redis,
    readonly keys: FleetKeys,
    readonly nodeId: string,
    readonly onMessage: (message: NodeMessage) => void,
  ) {}

  static async open(url: string, keys: FleetKeys, nodeId: string, onMessage: (message: NodeMessage) => void): Promise<NodeBus> {
    const redis = new Redis(url, { connectionName: `podlive-sfu-${nodeId}` });
    const subscriber = new Redis(url, { connectionName: `podlive-sfu-${nodeId}-sub` });
    for (const connection of [redis, subscriber]) connection.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
    const bus = new NodeBus(redis, subscriber, keys, nodeId, onMessage);
    subscriber.on('message', (_channel: string, text: string) => bus.#deliver(text));
    try {
      await subscriber.subscribe(keys.rpc(nodeId));
    } catch (err) {
      bus.close();
      throw err;
    }
    return bus;
  }

  async send(to: string, message: Outgoing): Promise<void> {
    if (this.#closed) return;
    await this.redis.publish(this.keys.rpc(to), JSON.stringify({ ...message, from: this.nodeId }));
  }

  /** Sends a request (its reqId is made here) and resolves with the reply's data. */
  request(to: string, message: Request, timeoutMs = FLEET_RPC_TIMEOUT_MS): Promise<unknown> {
    const reqId = randomUUID();
    const reply = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(reqId);
        reject(new Error(`node ${to} did not answer ${message.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(reqId, { resolve, reject, timer });
    });
    this.send(to, { ...message, reqId } as Outgoing).catch((err: unknown) => this.#settle(reqId, false, undefined, String(err)));
    return reply;
  }

  async reply(to: string, reqId: string, outcome: { ok: true; data: unknown } | { ok: false; error: string }): Promise<void> {
    await this.send(to, { type: 'reply', reqId, ...outcome });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [reqId] of this.#pending) this.#settle(reqId, false, undefined, 'node bus closed');
    this.subscriber.disconnect();
    this.redis.disconnect();
  }

  #deliver(text: string): void {
    let parsed: NodeMessage;
    try {
      const result = nodeMessageSchema.safeParse(JSON.parse(text));
      if (!result.success) throw new Error(result.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; '));
      parsed = result.data;
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'dropped an invalid node message');
      return;
    }
    if (parsed.type === 'reply') this.#settle(parsed.reqId, parsed.ok, parsed.data, parsed.error);
    else this.onMessage(parsed);
  }

  #settle(reqId: string, ok: boolean, data: unknown, error: string | undefined): void {
    const pending = this.#pending.get(reqId);
    if (!pending) return;
    this.#pending.delete(reqId);
    clearTimeout(pending.timer);
    if (ok) pending.resolve(data);
    else pending.reject(new Error(error ?? 'request failed'));
  }
}
