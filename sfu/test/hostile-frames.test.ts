import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, rawRequest, rawSocket, token } from './helpers';
import { NodeProcess } from './node-process';

/** Text frames no protoo client sends; `null` once ended the node process (protoo-server 4.0.8). */
const HOSTILE = [
  'null', '[]', '[null]', '0', '-1', '"text"', 'true', 'false', '{', '', ' ', 'undefined', '{}', '{"request":null}',
  '{"request":true}', '{"request":true,"id":"1","method":"join"}', '{"request":true,"id":1,"method":7}',
  '{"request":true,"id":1,"method":"join","data":null}', '{"request":true,"id":1,"method":"__proto__","data":{}}',
  '{"request":true,"id":1,"method":"constructor","data":{}}', '{"request":true,"id":1,"method":"join","data":"x"}',
  '{"response":true,"id":1,"ok":true}', '{"response":true,"id":null}', '{"notification":true,"method":"x","data":null}',
  '{"__proto__":{"request":true}}', JSON.stringify({ request: true, id: 2, method: 'join', data: { rtpCapabilities: null } }),
];

describe('hostile frames on the signalling WebSocket (a real node process)', () => {
  let node: NodeProcess;
  beforeAll(async () => {
    node = await NodeProcess.start();
  });
  afterAll(() => node.stop());

  it('one text frame `null` (and every other hostile frame) never ends the node; other peers go on', async () => {
    const before = await node.health();
    const bystander = await connect(node.url, `token=${await token({ sid: 'hostile', sub: 'bystander' })}`);
    await bystander.request('getRouterRtpCapabilities');

    for (const frame of HOSTILE) {
      const attacker = await rawSocket(node.url, `token=${await token({ sid: 'hostile', sub: 'attacker' })}`);
      attacker.send(frame);
      attacker.send(Buffer.from(frame || 'binary'));
      // Ordered after the hostile frames on the same connection: they were handled (or the connection closed).
      const after = await Promise.race([
        rawRequest(attacker, 99, 'getRouterRtpCapabilities', {}),
        new Promise((resolve) => attacker.once('close', () => resolve('closed'))),
      ]);
      expect(after === 'closed' || (after as { ok: boolean }).ok).toBe(true);
      attacker.close();
    }

    expect(node.alive).toBe(true);
    const now = await node.health();
    expect(now.pid).toBe(before.pid);
    expect(now.workers.map((w) => w.pid)).toEqual(before.workers.map((w) => w.pid));
    // The peer connected all along still gets answers, and a new one joins.
    expect(await bystander.request('getRouterRtpCapabilities')).toMatchObject({ codecs: expect.any(Array) });
    const late = await connect(node.url, `token=${await token({ sid: 'hostile', sub: 'late' })}`);
    expect(await late.request('join', { rtpCapabilities: await late.request('getRouterRtpCapabilities') })).toMatchObject({ role: 'viewer' });
    late.close();
    bystander.close();
  });
});
