import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { MediaClient } from '@podlive/shared/media-client';
import type { MediaWire, ProducerInfo } from '@podlive/shared/protocol';

interface TestWire extends MediaWire {
  rtpParameters: { codecs: { mimeType: string }[] };
}

/**
 * The client's typing, by use (compiled, never run: `pnpm run check` and the compiles below fail
 * if a `@ts-expect-error` line stops being an error or a typed line stops compiling).
 */
export async function typedUses(client: MediaClient<TestWire>): Promise<void> {
  const joined = await client.request('join', { rtpCapabilities: { codecs: [] } });
  expectTypeOf(joined.producers).toEqualTypeOf<ProducerInfo[]>();
  const consumer = await client.request('consume', { producerId: 'p', transportId: 't' });
  expectTypeOf(consumer.rtpParameters).toEqualTypeOf<TestWire['rtpParameters']>();
  expectTypeOf(consumer.producerPaused).toEqualTypeOf<boolean>();
  // @ts-expect-error consume's reply has no spatialLayers (createPlainConsumer's has)
  void consumer.spatialLayers;
  // @ts-expect-error consume needs the transport
  await client.request('consume', { producerId: 'p' });
  // @ts-expect-error no such request
  await client.request('subscribe', {});
  // @ts-expect-error join needs the client's capabilities
  await client.request('join');
  expectTypeOf(await client.request('getRouterRtpCapabilities')).toEqualTypeOf<unknown>();
  client.onNotification((n) => {
    if (n.method === 'producerPaused') expectTypeOf(n.data).toEqualTypeOf<{ producerId: string; paused: boolean }>();
    if (n.method === 'consumerClosed') expectTypeOf(n.data.consumerId).toEqualTypeOf<string>();
    // @ts-expect-error consumerClosed carries a consumerId, not a producerId
    if (n.method === 'consumerClosed') void n.data.producerId;
  });
}

const root = fileURLToPath(new URL('../..', import.meta.url));
const protocolPath = join(root, 'shared/src/protocol.ts');

/** Every module that speaks the media protocol: the node's side and each client's. */
const consumers = {
  nodeHandlers: 'sfu/src/room-handlers.ts',
  web: 'web/src/lib/media/MediaSession.ts',
  recorder: 'recorder/src/live/LiveRecording.ts',
  recorderTestPeer: 'recorder/test/helpers/recorder-peer.ts',
  loadViewer: 'sfu/load/viewer.ts',
  typedUses: 'shared/test/media-protocol-types.test.ts',
} as const;

const config = ts.parseJsonConfigFileContent({
  extends: join(root, 'tsconfig.json'),
  compilerOptions: { lib: ['ES2023', 'DOM', 'DOM.Iterable'] },
  files: Object.values(consumers).map((f) => join(root, f)),
}, ts.sys, root);
/** Parsed files are kept between compiles (all but the protocol): each compile only type-checks. */
const parsed = new Map<string, ts.SourceFile | undefined>();
const host = ts.createCompilerHost(config.options);
const getSourceFile = host.getSourceFile.bind(host);
let oldProgram: ts.Program | undefined;

/**
 * Type-checks every consumer with `change` applied to shared's protocol.ts (in memory) and
 * returns the consumers (paths from the repository root) the compiler reports errors in.
 */
function filesFailingWith(change: (protocol: string) => string): Set<string> {
  const protocol = change(ts.sys.readFile(protocolPath)!);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (fileName === protocolPath) return ts.createSourceFile(fileName, protocol, languageVersion);
    if (!parsed.has(fileName)) parsed.set(fileName, getSourceFile(fileName, languageVersion, onError, shouldCreate));
    return parsed.get(fileName);
  };
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options, host, ...(oldProgram ? { oldProgram } : {}) });
  oldProgram = program;
  if (!program.getSourceFile(protocolPath)) throw new Error('the consumers no longer import shared/src/protocol.ts');
  const failing = new Set<string>();
  const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  if (global.length) throw new Error(ts.formatDiagnostics(global, host));
  for (const file of Object.values(consumers)) {
    const source = program.getSourceFile(join(root, file));
    if (!source) throw new Error(`${file} is not in the program`);
    if ([...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].length) failing.add(file);
  }
  return failing;
}

/** Replaces `from` (which must be in the protocol) with `to`. */
const replace = (from: string | RegExp, to: string) => (protocol: string): string => {
  const changed = protocol.replace(from, to);
  if (changed === protocol) throw new Error(`${String(from)} is no longer in protocol.ts: update this test`);
  return changed;
};

describe('the media protocol, typed end to end', () => {
  const { nodeHandlers, web, recorder, loadViewer, typedUses } = consumers;
  const failing = (change: (protocol: string) => string) => [...filesFailingWith(change)].sort();

  it('compiles in every consumer as it is', () => {
    expect(failing((p) => p)).toEqual([]);
  }, 120_000);

  it("join's reply renamed: the node returns it and every client reads it, so all fail", () => {
    expect(failing(replace('role: MediaRole; producers: ProducerInfo[] }', 'role: MediaRole; present: ProducerInfo[] }')))
      .toEqual([nodeHandlers, web, recorder, loadViewer, typedUses].sort());
  }, 120_000);

  it("createPlainConsumer's reply renamed: the node and the recorder fail", () => {
    expect(failing(replace(/spatialLayers: number;/, 'layers: number;'))).toEqual([nodeHandlers, recorder].sort());
  }, 120_000);

  it("consume's reply renamed: the node, the browser and the load viewer fail", () => {
    expect(failing(replace(/(consume: \{[^}]*?)rtpParameters:/, '$1rtp:'))).toEqual([nodeHandlers, web, loadViewer, typedUses].sort());
  }, 120_000);

  it("a notification's data renamed: the node (Peer.notify) and the browser fail", () => {
    expect(failing(replace('consumerClosed: { consumerId: string };', 'consumerClosed: { id: string };'))).toEqual([nodeHandlers, web, typedUses].sort());
  }, 120_000);
});
