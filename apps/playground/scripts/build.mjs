// Builds the playground (README.md): type-checks src/ (tsc --noEmit, strict), then static/ + one
// esbuild bundle of src/main.ts into dist/, which the gateway serves at /play. Everything is
// bundled: the page loads nothing from elsewhere.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, 'assets'), { recursive: true });
cpSync(join(root, 'static', 'index.html'), join(dist, 'index.html'));
cpSync(join(root, 'static', 'app.css'), join(dist, 'assets', 'app.css'));
await build({
  entryPoints: [join(root, 'src', 'main.ts')],
  outfile: join(dist, 'assets', 'app.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
