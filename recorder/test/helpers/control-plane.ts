import { createServer, type Server } from 'node:http';
import { buffer } from 'node:stream/consumers';
import { recordingFinishedBody, SERVER_CONTROL_ID, type RecordingFinishedBody } from '@podlive/shared/recording';
import { verifyControlToken } from '@podlive/shared/tokens';

export const SECRET = 'recorder-test-secret-recorder-test-secret';

/** Stands in for the control plane's PUT /internal/recordings/:id: keeps what a valid control token sent. */
export async function controlPlane(): Promise<{ server: Server; url: string; finished: Map<string, RecordingFinishedBody>; refused: number }> {
  const state = { finished: new Map<string, RecordingFinishedBody>(), refused: 0 };
  const server = createServer((req, res) => {
    void (async () => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const sessionId = /^\/internal\/recordings\/([\w-]+)$/.exec(req.url ?? '')?.[1];
      if (req.method !== 'PUT' || !sessionId || !(await verifyControlToken(SECRET, token, SERVER_CONTROL_ID))) {
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

