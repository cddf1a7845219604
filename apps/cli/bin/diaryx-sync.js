#!/usr/bin/env node
// The `diaryx-sync` command. This file is committed (npm links it at `npm ci`, before any build);
// the program itself is the compiled `dist/main.js`.
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const main = path.join(__dirname, '..', 'dist', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write(
    'diaryx-sync: error: the CLI is not built yet: run `npm run build` in the repository first\n',
  );
  process.exit(1);
}
require(main);
