/**
 * The CLI installs from a packed tarball on a machine without the repository: `scripts/pack.js`
 * bundles it, `npm i -g` of the tarball needs nothing else, and the installed command syncs
 * against a real server. Needs `npm run build` first (root `npm test` does it).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as testing from '@diaryx-sync/protocol/testing';
import { seedServerFiles } from './helpers/cli-harness';

const run = promisify(execFile);
jest.setTimeout(180_000);

const WS = 'ws_pack';
let server: testing.TestSyncServer;
let work: string;

beforeAll(async () => {
  server = await testing.startTestSyncServer({ workspaces: [WS], tokens: { tok: 'editor' } });
  work = mkdtempSync(path.join(tmpdir(), 'diaryx-cli-pack-test-'));
});
afterAll(async () => {
  await server.close();
  rmSync(work, { recursive: true, force: true });
});

it('npm pack → npm i -g → diaryx-sync pull works with nothing but Node', async () => {
  const packed = await run(process.execPath, [
    path.join(__dirname, '..', 'scripts', 'pack.js'),
    path.join(work, 'out'),
  ]);
  const tarball = packed.stdout.trim();
  expect(path.basename(tarball)).toMatch(/^diaryx-sync-cli-\d+\.\d+\.\d+\.tgz$/);

  const prefix = path.join(work, 'global');
  // Offline and outside the repository: the tarball must carry everything it needs.
  await run('npm', ['i', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], {
    cwd: work,
  });
  const bin = path.join(prefix, 'bin', 'diaryx-sync');

  const version = await run(bin, ['--version'], { cwd: work });
  expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);

  seedServerFiles(server, WS, [{ path: 'hello.md', content: '---\ntitle: Hello\n---\n\nfrom the server\n' }]);
  const dir = path.join(work, 'notes');
  const pulled = await run(
    bin,
    ['pull', dir, '--server', server.url, '--workspace', WS, '--token', 'tok', '--quiet'],
    {
      cwd: work,
    },
  );
  expect(pulled.stderr).toBe('');
  expect(readFileSync(path.join(dir, 'hello.md'), 'utf8')).toMatch(/\n\nfrom the server\n$/);
});
