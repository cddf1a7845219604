/**
 * The SDK bundles for a browser: esbuild `--platform=browser` with every dependency inlined
 * fails on any `node:` built-in, `pg` or `ws`; the SDK without yjs and lib0 never mentions `Buffer` and stays within the size budget of 40 KB gzipped.
 */
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { gzipSync } from 'node:zlib';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { sdkBuildOptions } = require('../scripts/build-options.cjs') as {
  sdkBuildOptions: () => BuildOptions;
};

/** What the budget excludes (y-protocols, for presence, counts). */
const YJS_AND_LIB0 = ['yjs', 'lib0', 'lib0/*'];

const BUDGET_GZIP_BYTES = 40 * 1024;

/** Fails the build on every import of a Node built-in, `pg` or `ws`. */
const forbidServerOnly: Plugin = {
  name: 'forbid-server-only',
  setup(b) {
    b.onResolve({ filter: /^(node:.*|pg|pg\/.*|ws|ws\/.*)$/ }, (args) => ({
      errors: [{ text: `${args.path} imported by ${args.importer}` }],
    }));
  },
};

async function bundle(options: BuildOptions): Promise<Uint8Array> {
  const result = await build({
    ...sdkBuildOptions(),
    format: 'esm',
    minify: true,
    write: false,
    logLevel: 'silent',
    plugins: [forbidServerOnly],
    ...options,
  });
  return result.outputFiles![0].contents;
}

describe('browser bundle of @diaryx-sync/client', () => {
  test('everything inlined: no node: built-in, pg or ws is reached', async () => {
    const full = await bundle({});
    const gz = gzipSync(full).length;
    console.log(`SDK with yjs, lib0, y-protocols: ${full.length} B minified, ${gz} B gzipped`);
    expect(full.length).toBeGreaterThan(0);
  }, 60_000);

  test('the SDK without yjs/lib0: no Buffer, at most 40 KB gzipped', async () => {
    const own = await bundle({ external: YJS_AND_LIB0 });
    const text = new TextDecoder().decode(own);
    const gz = gzipSync(own).length;
    console.log(
      `SDK without yjs/lib0: ${own.length} B minified, ${gz} B gzipped (budget ${BUDGET_GZIP_BYTES})`,
    );
    expect(text).not.toMatch(/\bBuffer\b/);
    expect(text).not.toMatch(/\brequire\(/);
    expect(gz).toBeLessThanOrEqual(BUDGET_GZIP_BYTES);
  }, 60_000);

  test('the check works: a module importing ws or node: built-ins is refused', async () => {
    await expect(
      bundle({
        entryPoints: undefined,
        stdin: { contents: "import 'ws';\nimport 'node:crypto';", loader: 'ts' },
      }),
    ).rejects.toThrow(/ws imported by/);
  }, 60_000);
});
