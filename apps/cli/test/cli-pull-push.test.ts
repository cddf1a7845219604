import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as Y from 'yjs';
import { WebSocketServer } from 'ws';
import * as testing from '@diaryx-sync/protocol/testing';
import {
  cleanupTempDirs,
  cli,
  seedServerFiles,
  serverBody,
  serverMeta,
  tempDir,
} from './helpers/cli-harness';

// Real sockets and timers on a shared 2-core machine: allow more than Jest's 5 s default.
jest.setTimeout(30000);

const WS = 'ws_cli';
let server: testing.TestSyncServer;
const conn = (): string[] => ['--server', server.url, '--workspace', WS, '--token', 'tok'];

beforeEach(async () => {
  server = await testing.startTestSyncServer({ workspaces: [WS], tokens: { tok: 'editor' } });
});
afterEach(async () => {
  await server.close();
  cleanupTempDirs();
});

const README = `---
title: Home
contents:
  - "[Day one](/journal/day1.md)"
---

# Welcome
`;
const DAY1 = `---
title: Day one
part_of: "[Home](/README.md)"
audience:
  - me
mood: sunny
---

It rained. 🌧️ 日本語
`;

describe('diaryx-sync --help and usage errors', () => {
  it('prints help for the program and every command, exit 0', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/pull \[options\] <dir>/);
    expect(top.out).toMatch(/push \[options\] <dir>/);
    expect(top.out).toMatch(/start \[options\] <dir>/);
    for (const cmd of ['pull', 'push', 'start']) {
      const r = await cli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/--server <url>/);
      expect(r.out).toMatch(/--workspace <id>/);
      expect(r.out).toMatch(/--token <jwt>/);
      expect(r.out).toMatch(/Exit codes:/);
    }
  });

  it('exits 2 with a one-line error for bad command lines', async () => {
    const noArgs = await cli([]);
    expect(noArgs.code).toBe(2);
    const unknown = await cli(['pull', tempDir(), '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown option '--bogus'/);
    const missing = await cli(['pull', tempDir(), '--workspace', WS]);
    expect(missing.code).toBe(2);
    expect(missing.err.trim().split('\n')).toEqual([
      'diaryx-sync: error: missing --server (or DIARYX_SYNC_SERVER)',
    ]);
    const badWs = await cli(['pull', tempDir(), '--server', 'ws://x', '--workspace', 'bad id']);
    expect(badWs.code).toBe(2);
    expect(badWs.err).toMatch(/--workspace must match/);
    const badUrl = await cli(['pull', tempDir(), '--server', 'ftp://x', '--workspace', WS]);
    expect(badUrl.code).toBe(2);
  });
});

describe('diaryx-sync pull / push against an in-process server', () => {
  it('push then pull round-trips a folder exactly (frontmatter → metadata, body → body doc)', async () => {
    const src = tempDir();
    mkdirSync(path.join(src, 'journal'));
    writeFileSync(path.join(src, 'README.md'), README);
    writeFileSync(path.join(src, 'journal', 'day1.md'), DAY1);
    writeFileSync(path.join(src, 'notes.txt'), 'not markdown');
    mkdirSync(path.join(src, '.git'));
    writeFileSync(path.join(src, '.git', 'x.md'), 'hidden');

    const push = await cli(['push', src, ...conn()]);
    expect(push).toMatchObject({ code: 0, err: '' });
    expect(push.out).toMatch(
      /pushed 2 files to workspace ws_cli \(2 created, 0 updated, 0 deleted, 0 unchanged\); 3 documents saved/,
    );
    expect(serverMeta(server, WS, 'journal/day1.md')).toMatchObject({
      title: 'Day one',
      part_of: 'README.md',
      audience: ['me'],
      extra: { mood: 'sunny' },
      deleted: false,
    });
    expect(serverBody(server, WS, 'journal/day1.md')).toBe('It rained. 🌧️ 日本語\n');
    expect(serverBody(server, WS, 'README.md')).toBe('# Welcome\n');

    const dst = tempDir();
    const pull = await cli(['pull', dst, ...conn()]);
    expect(pull.code).toBe(0);
    expect(pull.out).toMatch(/pulled 2 files .* \(2 written, 0 unchanged\)/);
    const pulledDay1 = readFileSync(path.join(dst, 'journal', 'day1.md'), 'utf8');
    expect(pulledDay1).toContain('title: Day one');
    expect(pulledDay1).toContain('part_of: "[Home](/README.md)"');
    expect(pulledDay1).toContain('mood: sunny');
    expect(pulledDay1.endsWith('\n\nIt rained. 🌧️ 日本語\n')).toBe(true);

    // Pushing the pulled folder changes nothing; pulling again writes nothing.
    const before = new Map(
      [...server.core.docs].map(([id, d]) => [id, Buffer.from(Y.encodeStateVector(d)).toString('hex')]),
    );
    const again = await cli(['push', dst, ...conn()]);
    expect(again.out).toMatch(/\(0 created, 0 updated, 0 deleted, 2 unchanged\)/);
    for (const [id, d] of server.core.docs) {
      expect([id, Buffer.from(Y.encodeStateVector(d)).toString('hex')]).toEqual([id, before.get(id)]);
    }
    const pullAgain = await cli(['pull', dst, ...conn()]);
    expect(pullAgain.out).toMatch(/\(0 written, 2 unchanged\)/);
  });

  it('push applies an edit as a minimal change that keeps concurrent text', async () => {
    seedServerFiles(server, WS, [{ path: 'a.md', content: '---\ntitle: A\n---\n\nline one\nline two\n' }]);
    const dir = tempDir();
    expect((await cli(['pull', dir, ...conn()])).code).toBe(0);
    // A concurrent edit inside "line two", made on a fork the push does not see.
    const serverDoc = server.core.doc(`body:${WS}/a.md`);
    const fork = new Y.Doc();
    Y.applyUpdate(fork, Y.encodeStateAsUpdate(serverDoc));
    const forkBefore = Y.encodeStateVector(fork);
    fork.getText('body').insert('line one\nline '.length, 'X');
    // Locally we edit the first line only.
    const file = path.join(dir, 'a.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('line one', 'LINE ONE'));
    const push = await cli(['push', dir, ...conn()]);
    expect(push.code).toBe(0);
    expect(push.out).toMatch(/1 updated/);
    expect(serverBody(server, WS, 'a.md')).toBe('LINE ONE\nline two\n');
    // The untouched text kept its CRDT identity: the concurrent insert lands inside it.
    Y.applyUpdate(serverDoc, Y.encodeStateAsUpdate(fork, forkBefore));
    expect(serverBody(server, WS, 'a.md')).toBe('LINE ONE\nline Xtwo\n');
  });

  it('push --delete tombstones workspace files missing from the folder; pull --delete removes stray files', async () => {
    seedServerFiles(server, WS, [
      { path: 'keep.md', content: 'k' },
      { path: 'drop.md', content: 'd' },
    ]);
    const dir = tempDir();
    writeFileSync(path.join(dir, 'keep.md'), 'k');
    const push = await cli(['push', dir, ...conn(), '--delete']);
    expect(push.code).toBe(0);
    expect(push.out).toMatch(/1 deleted/);
    expect(serverMeta(server, WS, 'drop.md')).toMatchObject({ deleted: true });
    const dst = tempDir();
    writeFileSync(path.join(dst, 'stray.md'), 'x');
    const pull = await cli(['pull', dst, ...conn(), '--delete']);
    expect(pull.code).toBe(0);
    expect(existsSync(path.join(dst, 'stray.md'))).toBe(false);
    expect(existsSync(path.join(dst, 'drop.md'))).toBe(false);
    expect(readFileSync(path.join(dst, 'keep.md'), 'utf8')).toMatch(/\n\nk$/);
  });

  it('exit codes: bad token 3, unknown workspace 4, unreachable 5, missing folder 8', async () => {
    const dir = tempDir();
    const badToken = await cli(['pull', dir, '--server', server.url, '--workspace', WS, '--token', 'wrong']);
    expect(badToken.code).toBe(3);
    expect(badToken.err.trim().split('\n')).toEqual([
      'diaryx-sync: error: token rejected by the server (HTTP 401)',
    ]);

    const noWs = await cli(['pull', dir, '--server', server.url, '--workspace', 'nope', '--token', 'tok']);
    expect(noWs.code).toBe(4);
    expect(noWs.err).toMatch(
      /^diaryx-sync: error: workspace not found or not accessible with this token \(4403/,
    );

    const port = server.port;
    await server.close();
    const down = await cli([
      'pull',
      dir,
      '--server',
      `ws://127.0.0.1:${port}`,
      '--workspace',
      WS,
      '--token',
      'tok',
      '--retries',
      '0',
    ]);
    expect(down.code).toBe(5);
    expect(down.err).toMatch(/^diaryx-sync: error: server unreachable after 1 attempt/);
    expect(down.err.trim().split('\n')).toHaveLength(1);
    server = await testing.startTestSyncServer({ workspaces: [WS], tokens: { tok: 'editor' } });

    const missing = await cli(['push', path.join(dir, 'does-not-exist'), ...conn()]);
    expect(missing.code).toBe(8);
    expect(missing.err.trim().split('\n')).toEqual([
      `diaryx-sync: error: folder not found: ${path.join(dir, 'does-not-exist')}`,
    ]);
  });

  it('reads connection settings from the environment', async () => {
    seedServerFiles(server, WS, [{ path: 'env.md', content: 'from env' }]);
    const dir = tempDir();
    const r = await cli(['pull', dir], {
      env: { DIARYX_SYNC_SERVER: server.url, DIARYX_SYNC_WORKSPACE: WS, DIARYX_SYNC_TOKEN: 'tok' },
    });
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dir, 'env.md'), 'utf8')).toMatch(/\n\nfrom env$/);
  });

  it('an interrupted pull exits 130 with one line', async () => {
    // A server that accepts the socket and then never answers.
    const silent = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => silent.once('listening', r));
    const port = (silent.address() as { port: number }).port;
    const controller = new AbortController();
    const run = cli(
      ['pull', tempDir(), '--server', `ws://127.0.0.1:${port}`, '--workspace', WS, '--token', 'tok'],
      {
        signal: controller.signal,
      },
    );
    setTimeout(() => controller.abort(), 300);
    const r = await run;
    for (const c of silent.clients) c.terminate();
    await new Promise((r2) => silent.close(r2));
    expect(r.code).toBe(130);
    expect(r.err.trim().split('\n')).toEqual(['diaryx-sync: error: interrupted']);
  });

  it('push with a viewer token exits 3 and changes nothing', async () => {
    await server.close();
    server = await testing.startTestSyncServer({ workspaces: [WS], tokens: { tok: 'viewer' } });
    seedServerFiles(server, WS, [{ path: 'a.md', content: 'original' }]);
    const dir = tempDir();
    writeFileSync(path.join(dir, 'a.md'), 'changed');
    const r = await cli(['push', dir, ...conn()]);
    expect(r.code).toBe(3);
    expect(r.err.trim().split('\n')).toEqual([
      'diaryx-sync: error: the token is read-only (viewer): the server refused changes to 1 document',
    ]);
    expect(serverBody(server, WS, 'a.md')).toBe('original');
  });

  it('--version prints the version', async () => {
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
