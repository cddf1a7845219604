#!/usr/bin/env node
// The `diaryx-sync` command. This file is committed (npm links it at `npm ci`, before any build);
// the program itself is the compiled `dist/main.js`. In a fresh clone of the repository it is
// built once on first use (`npm run build`), so `npm ci && npx diaryx-sync …` works.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');

const main = path.join(__dirname, '..', 'dist', 'main.js');
const repo = path.join(__dirname, '..', '..', '..');
if (!fs.existsSync(main) && fs.existsSync(path.join(repo, 'tsconfig.build.json'))) {
  process.stderr.write('diaryx-sync: building the repository once (npm run build) ...\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const built = spawnSync(npm, ['run', 'build', '--silent'], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (built.status !== 0) {
    process.stderr.write('diaryx-sync: error: `npm run build` failed in the repository (output above)\n');
    process.exit(1);
  }
}
if (!fs.existsSync(main)) {
  process.stderr.write(
    'diaryx-sync: error: the CLI is not built yet: run `npm run build` in the repository first\n',
  );
  process.exit(1);
}
require(main);
