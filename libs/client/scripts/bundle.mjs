// Bundles the SDK for browsers (README.md#build): dist/browser/index.mjs (ESM) and index.cjs.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import options from './build-options.cjs';

const outdir = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'browser');
const common = { ...options.sdkBuildOptions(), external: options.EXTERNAL, sourcemap: true };
await build({ ...common, format: 'esm', outfile: join(outdir, 'index.mjs') });
await build({ ...common, format: 'cjs', outfile: join(outdir, 'index.cjs') });
