import { fileURLToPath } from 'node:url';
import { parseCircular, parseDependencyTree, prettyCircular } from 'dpdm';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Every import cycle among shared's modules, type-only imports included (dpdm keeps them unless `transform`). */
async function cycles(): Promise<string[][]> {
  const tree = await parseDependencyTree('src/**/*.ts', { context: root, cwd: root, transform: false, skipDynamicImports: false, include: /\/src\//, exclude: /node_modules/ });
  return parseCircular(tree);
}

describe('shared modules', () => {
  it('no module imports itself through another (chat, live, recording, social and ws included)', async () => {
    const found = await cycles();
    expect(prettyCircular(found), 'import cycles').toBe(prettyCircular([]));
  });

  it('the scan sees the imports it checks (ws joins the features; the features do not import ws)', async () => {
    const tree = await parseDependencyTree('src/ws.ts', { context: root, cwd: root, transform: false });
    const ws = (tree['src/ws.ts'] ?? []).map((d) => d.id);
    expect(ws).toEqual(expect.arrayContaining(['src/chat.ts', 'src/live.ts', 'src/recording.ts', 'src/social.ts', 'src/stage.ts']));
    for (const feature of ['src/chat.ts', 'src/live.ts', 'src/recording.ts', 'src/social.ts']) {
      expect((tree[feature] ?? []).map((d) => d.id), feature).not.toContain('src/ws.ts');
    }
  });
});
