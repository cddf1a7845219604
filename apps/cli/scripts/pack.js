#!/usr/bin/env node
/**
 * Packs the CLI as one installable tarball: `npm run pack -w @diaryx-sync/cli [-- <out dir>]`.
 *
 * Inside the repository the CLI imports the other workspace packages, which are not published.
 * The tarball instead carries one esbuild bundle of `dist/main.js` (and of the load-test worker
 * thread), so `npm i -g diaryx-sync-cli-<version>.tgz` needs nothing but Node. Optional native
 * add-ons (`fsevents`, `bufferutil`, `utf-8-validate`, `pg-native`) and the peer servers of the
 * benchmark suite stay out; every library that uses them works without them.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const esbuild = require('esbuild');

const cliRoot = path.resolve(__dirname, '..');
const repoRoot = path.resolve(cliRoot, '../..');
const outDir = path.resolve(process.argv[2] ?? path.join(cliRoot, 'pack'));

const EXTERNAL = [
  'fsevents',
  'bufferutil',
  'utf-8-validate',
  'pg-native',
  '@hocuspocus/*',
  '@y/websocket-server',
];

function main() {
  const main = path.join(cliRoot, 'dist/main.js');
  const worker = path.join(repoRoot, 'apps/loadtest/dist/load/worker.js');
  for (const f of [main, worker]) {
    if (!fs.existsSync(f))
      throw new Error(`${path.relative(repoRoot, f)} is missing: run npm run build first`);
  }
  const pkg = JSON.parse(fs.readFileSync(path.join(cliRoot, 'package.json'), 'utf8'));
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'diaryx-sync-cli-pack-'));
  try {
    const common = {
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: EXTERNAL,
      logLevel: 'error',
      legalComments: 'none',
    };
    esbuild.buildSync({ ...common, entryPoints: [main], outfile: path.join(stage, 'dist/main.js') });
    // The load generator finds its worker next to itself (apps/loadtest/src/load/worker-pool.ts).
    esbuild.buildSync({ ...common, entryPoints: [worker], outfile: path.join(stage, 'dist/worker.js') });
    fs.mkdirSync(path.join(stage, 'bin'));
    fs.copyFileSync(path.join(cliRoot, 'bin/diaryx-sync.js'), path.join(stage, 'bin/diaryx-sync.js'));
    fs.chmodSync(path.join(stage, 'bin/diaryx-sync.js'), 0o755);
    fs.copyFileSync(path.join(cliRoot, 'README.md'), path.join(stage, 'README.md'));
    const published = {
      name: pkg.name,
      version: pkg.version,
      description: 'Sync a folder of markdown files with a Diaryx Sync workspace',
      license: 'MIT',
      bin: pkg.bin,
      files: ['bin', 'dist'],
      engines: { node: '>=20.19' },
    };
    fs.writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);
    fs.mkdirSync(outDir, { recursive: true });
    const out = execFileSync('npm', ['pack', stage, '--pack-destination', outDir, '--json'], {
      encoding: 'utf8',
    });
    const [{ filename }] = JSON.parse(out);
    process.stdout.write(`${path.join(outDir, filename)}\n`);
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  process.stderr.write(`pack: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
