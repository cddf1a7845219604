// esbuild options of the SDK's browser bundle, shared by scripts/bundle.mjs and
// test/browser-bundle.test.ts: the workspace libraries are inlined from their TypeScript sources
// (so unused code is dropped), yjs, lib0 and y-protocols stay imports (one Yjs instance per app).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const path = require('node:path');

const pkg = path.join(__dirname, '..');
const root = path.join(pkg, '..', '..');

/** Modules left as imports in the published bundle (and excluded from the size budget). */
const EXTERNAL = ['yjs', 'lib0', 'lib0/*', 'y-protocols', 'y-protocols/*'];

function sdkBuildOptions() {
  return {
    entryPoints: [path.join(pkg, 'src', 'index.ts')],
    bundle: true,
    platform: 'browser',
    target: 'es2020',
    alias: {
      '@diaryx-sync/crdt': path.join(root, 'libs', 'crdt', 'src', 'index.ts'),
      '@diaryx-sync/protocol/client': path.join(root, 'libs', 'protocol', 'src', 'client', 'browser.ts'),
    },
    logLevel: 'warning',
  };
}

module.exports = { EXTERNAL, sdkBuildOptions };
