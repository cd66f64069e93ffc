import {
  RECORDER_CONTROL_ID, RECORDER_MEDIA_TOKEN_TTL_SEC, RECORDING_REPORT_TOKEN_TTL_SEC, SERVER_CONTROL_ID, type RecorderStartBody, type RecorderStopBody,
} from '@podlive/shared/recording';
import { signControlToken, signMediaToken, type ControlScope, type TokenSigningKey } from '@podlive/shared/tokens';
import type { NodeRef } from '../live/placement';
import { CONTROL_TIMEOUT_MS } from '../live/sfu-control';

export interface RecorderControlOptions {
  /** RECORDER_URL; undefined: recording is disabled and every command is a no-op. */
  url: string | undefined;
  /** MEDIA_TOKEN_PRIVATE_KEY: signs the commands' control tokens and the tokens the recorder is given. */
  key: TokenSigningKey;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /** How long one command may take (default CONTROL_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** The recorder answered a command with an error status. */
export class RecorderCommandError extends Error {
  override name = 'RecorderCommandError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/**
 * The control plane's client of the recording service: `POST /control/recordings` when a live
 * goes live on an origin (or moves to another), `POST /control/recordings/:sessionId/stop` when it
 * ends, each with a control token for node `recorder`.
 *
 * Commands are fire-and-forget for the caller: going live or ending never waits for the recorder
 * and never fails because of it (a failure is logged; the live goes on unrecorded). Commands of
 * one session are sent one after the other, so a stop never overtakes its start. close() waits
 * for the commands under way (each is bounded by the timeout).
 */
export class RecorderControl {
  readonly enabled: boolean;
  readonly #url: string | undefined;
  readonly #options: RecorderControlOptions;
  /** The last command of each session with one under way: the next one is chained after it. */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(options: RecorderControlOptions) {
    this.#options = options;
    this.#url = options.url?.replace(/\/+$/, '');
    this.enabled = this.#url !== undefined;
    if (!this.enabled) options.log.info({}, 'recording is disabled: RECORDER_URL is not set');
  }

  /**
   * Record (or keep recording) the live from `node`, its origin, named by its id and its protoo
   * URL on its internal address (the node's control URL with a ws scheme: protoo listens on the
   * same port), with the `recorder` media token for it: the recorder holds no signing key.
   */
  start(live: { sessionId: string; hostId: string }, node: NodeRef): void {
    this.#enqueue(live.sessionId, 'start', async () => {
      const token = await signMediaToken(this.#options.key, { sid: live.sessionId, sub: 'recorder', role: 'recorder', node: node.id }, RECORDER_MEDIA_TOKEN_TTL_SEC);
      const body: RecorderStartBody = {
        sessionId: live.sessionId,
        hostId: live.hostId,
        node: { id: node.id, url: node.controlUrl.replace(/^http/, 'ws'), token },
        reportToken: await this.#reportToken(live.sessionId),
      };
      await this.#command('recording:start', '/control/recordings', body);
    });
  }

  /**
   * The live ended: the recorder finalizes and runs the finishing job, which reports back with the
   * token given here (PUT /internal/recordings/:sessionId, for this live only).
   */
  stop(sessionId: string): void {
    this.#enqueue(sessionId, 'stop', async () => {
      const body: RecorderStopBody = { reportToken: await this.#reportToken(sessionId) };
      await this.#command('recording:stop', `/control/recordings/${encodeURIComponent(sessionId)}/stop`, body);
    });
  }

  /** Resolves once every command sent so far has been answered or has failed. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }

  close(): Promise<void> {
    return this.idle();
  }

  #enqueue(sessionId: string, name: 'start' | 'stop', send: () => Promise<void>): void {
    if (this.#url === undefined) return;
    const previous = this.#tails.get(sessionId) ?? Promise.resolve();
    const tail = previous.then(send).catch((err: unknown) => {
      this.#options.log.warn({ err, sessionId, command: name }, 'the recorder did not take the command; the live goes on without it');
    });
    this.#tails.set(sessionId, tail);
    void tail.finally(() => {
      if (this.#tails.get(sessionId) === tail) this.#tails.delete(sessionId);
    });
  }

  /** The token the recorder's finishing job reports with: for the server, this live only. */
  #reportToken(sessionId: string): Promise<string> {
    return signControlToken(this.#options.key, { node: SERVER_CONTROL_ID, scope: 'recording:report', sid: sessionId }, RECORDING_REPORT_TOKEN_TTL_SEC);
  }

  async #command(scope: ControlScope, path: string, body?: object): Promise<void> {
    const token = await signControlToken(this.#options.key, { node: RECORDER_CONTROL_ID, scope });
    const response = await fetch(`${this.#url ?? ''}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.#options.timeoutMs ?? CONTROL_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) throw new RecorderCommandError(response.status, `the recorder answered ${response.status} to POST ${path}`);
  }
}
