// Bundles the SDK for browsers (README.md#build): dist/browser/index.mjs (ESM) and index.cjs,
// with the workspace libraries inlined from their TypeScript sources (so unused code is dropped)
// and yjs, lib0 and y-protocols left as imports (one shared Yjs instance with the app's editor).
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(pkg, '..', '..');

/** esbuild options shared by the published bundle and the bundle-size test. */
export function sdkBuildOptions() {
  return {
    entryPoints: [join(pkg, 'src', 'index.ts')],
    bundle: true,
    platform: 'browser',
    target: 'es2020',
    external: ['yjs', 'lib0', 'lib0/*', 'y-protocols', 'y-protocols/*'],
    alias: {
      '@diaryx-sync/crdt': join(root, 'libs', 'crdt', 'src', 'index.ts'),
      '@diaryx-sync/protocol/client': join(root, 'libs', 'protocol', 'src', 'client', 'browser.ts'),
    },
    logLevel: 'warning',
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = join(pkg, 'dist', 'browser');
  await build({ ...sdkBuildOptions(), format: 'esm', outfile: join(outdir, 'index.mjs'), sourcemap: true });
  await build({ ...sdkBuildOptions(), format: 'cjs', outfile: join(outdir, 'index.cjs'), sourcemap: true });
}
