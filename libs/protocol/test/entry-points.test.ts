/**
 * What each package entry point (package.json `exports`) reaches: the root is the codec only (no
 * client module, no `ws`), `./client` is the browser-safe client (no `ws`), `./node` is the client
 * with `SyncClient`, whose default WebSocket is `ws`. esbuild follows the imports from the sources
 * the entry points are built from; packages stay external, so `ws` shows as an import.
 */
import { build } from 'esbuild';
import { join } from 'node:path';

const src = join(__dirname, '..', 'src');

interface Reach {
  /** Source files of this package reached, relative to `src/`. */
  modules: string[];
  /** Packages imported (`import` or `require`) by those files. */
  packages: string[];
}

async function reach(entry: string): Promise<Reach> {
  const result = await build({
    entryPoints: [join(src, entry)],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    logLevel: 'silent',
    metafile: true,
  });
  const modules = Object.keys(result.metafile.inputs)
    .filter((p) => p.includes('libs/protocol/src/'))
    .map((p) => p.slice(p.indexOf('libs/protocol/src/') + 'libs/protocol/src/'.length));
  const packages = Object.values(result.metafile.outputs).flatMap((o) => o.imports.map((i) => i.path));
  return { modules, packages: [...new Set(packages)] };
}

describe('package entry points', () => {
  test('the root (@diaryx-sync/protocol) is the codec: no client module, no ws', async () => {
    const root = await reach('index.ts');
    expect(root.modules).toEqual(expect.arrayContaining(['framing.ts', 'sync.ts', 'strict-decoding.ts']));
    expect(root.modules.filter((m) => m.startsWith('client/'))).toEqual([]);
    expect(root.packages).not.toContain('ws');
  }, 60_000);

  test('./client (browser) has the session but neither SyncClient nor ws', async () => {
    const client = await reach('client/browser.ts');
    expect(client.modules).toContain('client/session.ts');
    expect(client.modules).not.toContain('client/sync-client.ts');
    expect(client.packages).not.toContain('ws');
  }, 60_000);

  test('./node has SyncClient on ws (the check sees ws when it is there)', async () => {
    const node = await reach('client/index.ts');
    expect(node.modules).toContain('client/sync-client.ts');
    expect(node.packages).toContain('ws');
  }, 60_000);
});
