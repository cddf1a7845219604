import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { FolderSync } from '@diaryx-sync/cli';
import * as testing from '@diaryx-sync/protocol/testing';
import {
  cleanupTempDirs,
  cli,
  seedServerFiles,
  serverBody,
  serverMeta,
  tempDir,
  waitFor,
  type CliRun,
} from './helpers/cli-harness';

// Real sockets, watchers and timers on a shared 2-core machine.
jest.setTimeout(30000);

const WS = 'ws_concurrent';
const START = '---\ntitle: F\n---\n\nline one\nline two\nline three\n';

interface Running {
  readonly dir: string;
  readonly controller: AbortController;
  readonly run: Promise<CliRun>;
  sync?: FolderSync;
}

function start(server: testing.TestSyncServer): Running {
  const dir = tempDir();
  const controller = new AbortController();
  const r: { sync?: FolderSync } = {};
  const run = cli(
    ['start', dir, '--server', server.url, '--workspace', WS, '--token', 'tok', '--debounce', '300'],
    {
      signal: controller.signal,
      tuning: { onReady: (s) => (r.sync = s), baseDelayMs: 50 },
    },
  );
  return Object.assign(r, { dir, controller, run });
}

const text = (r: Running, file = 'f.md'): string => readFileSync(path.join(r.dir, file), 'utf8');
const exists = (r: Running, file: string): boolean => existsSync(path.join(r.dir, file));

describe('diaryx-sync start in two folders: concurrent edits of one file', () => {
  let server: testing.TestSyncServer;
  let a: Running;
  let b: Running;

  beforeEach(async () => {
    server = await testing.startTestSyncServer({ workspaces: [WS], tokens: { tok: 'editor' } });
    seedServerFiles(server, WS, [{ path: 'f.md', content: START }]);
    a = start(server);
    b = start(server);
    await waitFor(() => a.sync !== undefined && b.sync !== undefined);
  });

  afterEach(async () => {
    a.controller.abort();
    b.controller.abort();
    await Promise.all([a.run, b.run]);
    await server.close();
    cleanupTempDirs();
  });

  it('a local edit made 50 ms after a remote edit of another line is merged, not overwritten', async () => {
    const initial = text(a);
    expect(text(b)).toBe(initial);
    writeFileSync(path.join(a.dir, 'f.md'), initial.replace('line one', 'line one (A)'));
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(path.join(b.dir, 'f.md'), initial.replace('line three', 'line three (B)'));
    const both = 'line one (A)\nline two\nline three (B)\n';
    await waitFor(() => serverBody(server, WS, 'f.md') === both, 10000);
    await waitFor(() => text(a).endsWith(`\n\n${both}`) && text(b).endsWith(`\n\n${both}`), 10000);
    expect(text(a)).toBe(text(b));
  });

  it('a file renamed in A while B edits it: the edit lands in the renamed file, no stale file is left', async () => {
    const initial = text(b);
    renameSync(path.join(a.dir, 'f.md'), path.join(a.dir, 'g.md'));
    await new Promise((r) => setTimeout(r, 50));
    writeFileSync(path.join(b.dir, 'f.md'), initial.replace('line two', 'line two (B)'));
    const edited = 'line one\nline two (B)\nline three\n';
    await waitFor(() => serverBody(server, WS, 'g.md') === edited, 10000);
    await waitFor(
      () =>
        exists(a, 'g.md') &&
        exists(b, 'g.md') &&
        text(a, 'g.md').endsWith(`\n\n${edited}`) &&
        text(b, 'g.md').endsWith(`\n\n${edited}`),
      10000,
    );
    // Settle past both debounces: nothing resurrects the old path.
    await new Promise((r) => setTimeout(r, 800));
    await Promise.all([a.sync!.idle(), b.sync!.idle()]);
    expect(exists(a, 'f.md')).toBe(false);
    expect(exists(b, 'f.md')).toBe(false);
    expect(serverMeta(server, WS, 'f.md')?.deleted).toBe(true);
    expect(serverMeta(server, WS, 'g.md')?.deleted).toBe(false);
  });
});
