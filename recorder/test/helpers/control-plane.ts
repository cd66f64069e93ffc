import { createServer, type Server } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { recordingFinishedBody, SERVER_CONTROL_ID, type RecorderStartBody, type RecordingFinishedBody } from '@podlive/shared/recording';
import { testKeyPair } from '@podlive/shared/testing/keys';
import { signControlToken, signMediaToken, verifyControlToken, type ControlScope } from '@podlive/shared/tokens';

/** The test control plane's key pair: nodes and the recorder get only the public half. */
export const KEYS = testKeyPair();

/** The token the control plane gives the recorder to report a live's recording with. */
export const reportToken = (sessionId: string) => signControlToken(KEYS.privateKey, { node: SERVER_CONTROL_ID, scope: 'recording:report', sid: sessionId });

/** A control token for the recorder with `scope`, as the control plane signs its commands. */
export const commandToken = (scope: ControlScope) => signControlToken(KEYS.privateKey, { node: 'recorder', scope });

/** A start command's body as the control plane sends it: the origin with the recorder's media token for it, and a report token. */
export async function startBody(sessionId: string, hostId: string, node: { id: string; url: string }): Promise<RecorderStartBody> {
  const token = await signMediaToken(KEYS.privateKey, { sid: sessionId, sub: 'recorder', role: 'recorder', node: node.id });
  return { sessionId, hostId, node: { ...node, token }, reportToken: await reportToken(sessionId) };
}

/** Stands in for the control plane's PUT /internal/recordings/:id: keeps what a valid report token for that live sent. */
export async function controlPlane(): Promise<{ server: Server; url: string; finished: Map<string, RecordingFinishedBody>; refused: number }> {
  const state = { finished: new Map<string, RecordingFinishedBody>(), refused: 0 };
  const server = createServer((req, res) => {
    void (async () => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const sessionId = /^\/internal\/recordings\/([\w-]+)$/.exec(req.url ?? '')?.[1];
      if (req.method !== 'PUT' || !sessionId || !(await verifyControlToken(KEYS.publicKey, token, { node: SERVER_CONTROL_ID, scope: 'recording:report', sid: sessionId }))) {
        state.refused++;
        return res.writeHead(401).end();
      }
      state.finished.set(sessionId, recordingFinishedBody.parse(JSON.parse((await buffer(req)).toString('utf8'))));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return Object.assign(state, { server, url: `http://127.0.0.1:${port}` });
}

export async function until<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

