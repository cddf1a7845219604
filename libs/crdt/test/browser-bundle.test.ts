/**
 * The client-side entry points bundle for a browser: `@diaryx-sync/crdt` and the protocol client
 * (`libs/protocol/src/client`, whose `ws` import resolves to the package's browser stub). Any
 * `node:` built-in or `pg` reached from them fails the bundle. The PostgreSQL storage lives in
 * `@diaryx-sync/crdt/postgres`, which is not part of it.
 */
import { build, type Plugin } from 'esbuild';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

/** Fails the build on every import of a Node built-in or of `pg`. */
const forbidServerOnly: Plugin = {
  name: 'forbid-server-only',
  setup(b) {
    b.onResolve({ filter: /^(node:.*|pg|pg\/.*)$/ }, (args) => ({
      errors: [{ text: `${args.path} imported by ${args.importer}` }],
    }));
  },
};

async function bundle(entry: string): Promise<string[]> {
  const result = await build({
    stdin: { contents: entry, resolveDir: root, loader: 'ts' },
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    logLevel: 'silent',
    alias: {
      '@diaryx-sync/crdt': join(root, 'libs/crdt/src/index.ts'),
      '@diaryx-sync/protocol/client': join(root, 'libs/protocol/src/client/browser.ts'),
    },
    plugins: [forbidServerOnly],
    metafile: true,
  });
  return Object.keys(result.metafile.inputs);
}

describe('browser bundle', () => {
  test('the @diaryx-sync/protocol/client entry point bundles without node: built-ins or pg', async () => {
    const inputs = await bundle("export * from '@diaryx-sync/protocol/client';\n");
    expect(inputs.some((i) => i.includes('client/session'))).toBe(true);
    expect(inputs.some((i) => i.includes('doc-sync-handler'))).toBe(false);
  }, 60_000);

  test('crdt and the protocol client bundle without node: built-ins or pg', async () => {
    const inputs = await bundle(
      "export * from '@diaryx-sync/crdt';\nexport * from './libs/protocol/src/client/session';\n" +
        "export * from './libs/protocol/src/client/sync-client';\nexport * from './libs/protocol/src/client/crdt-documents';\n",
    );
    expect(inputs.some((i) => i.includes('workspace-crdt'))).toBe(true);
    expect(inputs.some((i) => i.includes('postgres-storage'))).toBe(false);
  }, 60_000);

  test('the check works: the PostgreSQL entry point is refused', async () => {
    await expect(bundle("export * from './libs/crdt/src/postgres';\nimport 'pg';\n")).rejects.toThrow(
      /pg imported by/,
    );
  }, 60_000);
});
