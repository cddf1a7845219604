import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { LocalWorkspace, type FolderSync } from '@diaryx-sync/cli';
import { SyncClient } from '@diaryx-sync/protocol/node';
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

// Real sockets and timers on a shared 2-core machine: allow more than Jest's 5 s default.
jest.setTimeout(30000);

const WS = 'ws_start';
let server: testing.TestSyncServer;

/** Another editor of the workspace, using the same crdt model as the CLI. */
async function otherEditor(): Promise<{ local: LocalWorkspace; client: SyncClient; done: Promise<void> }> {
  const local = new LocalWorkspace(WS);
  const client = new SyncClient({
    serverUrl: server.url,
    workspaceId: WS,
    token: 'tok',
    documents: local.documents,
    reconnect: { baseDelayMs: 50, maxDelayMs: 100, jitter: 0 },
    tickIntervalMs: 50,
  });
  local.forwardTo((docId, update) => client.sendLocalUpdate(docId, update));
  const done = client.runPersistent();
  await waitFor(() => client.session.isSynced);
  return { local, client, done };
}

const fileText = (dir: string, p: string): string | undefined =>
  existsSync(path.join(dir, p)) ? readFileSync(path.join(dir, p), 'utf8') : undefined;

describe('diaryx-sync start against an in-process server', () => {
  let dir: string;
  let controller: AbortController;
  let run: Promise<CliRun>;
  let sync: FolderSync | undefined;

  beforeEach(async () => {
    server = await testing.startTestSyncServer({ workspaces: [WS], tokens: { tok: 'editor' } });
    seedServerFiles(server, WS, [
      { path: 'remote.md', content: '---\ntitle: Remote\n---\n\nfrom the server\n' },
    ]);
    dir = tempDir();
    writeFileSync(path.join(dir, 'local.md'), '---\ntitle: Local\n---\n\nfrom the folder\n');
    controller = new AbortController();
    sync = undefined;
    run = cli(
      ['start', dir, '--server', server.url, '--workspace', WS, '--token', 'tok', '--debounce', '80'],
      {
        signal: controller.signal,
        tuning: { onReady: (s) => (sync = s), baseDelayMs: 50 },
      },
    );
    await waitFor(() => sync !== undefined);
  });

  afterEach(async () => {
    controller.abort();
    await run;
    await server.close();
    cleanupTempDirs();
  });

  it('reconciles both ways at start, then syncs local edits, adds, deletes and renames', async () => {
    expect(fileText(dir, 'remote.md')).toMatch(/title: Remote[\s\S]*\n\nfrom the server\n$/);
    await waitFor(() => serverBody(server, WS, 'local.md') === 'from the folder\n');
    expect(serverMeta(server, WS, 'local.md')).toMatchObject({ title: 'Local', deleted: false });

    // Edit.
    writeFileSync(path.join(dir, 'local.md'), '---\ntitle: Local\n---\n\nfrom the folder, edited\n');
    await waitFor(() => serverBody(server, WS, 'local.md') === 'from the folder, edited\n');
    // Add.
    writeFileSync(path.join(dir, 'new.md'), 'brand new\n');
    await waitFor(
      () =>
        serverBody(server, WS, 'new.md') === 'brand new\n' &&
        serverMeta(server, WS, 'new.md')?.deleted === false,
    );
    // Rename: the body moves with its history (one body stream, no duplicated text).
    renameSync(path.join(dir, 'new.md'), path.join(dir, 'moved.md'));
    await waitFor(
      () =>
        serverMeta(server, WS, 'moved.md')?.deleted === false &&
        serverMeta(server, WS, 'new.md')?.deleted === true,
    );
    expect(serverBody(server, WS, 'moved.md')).toBe('brand new\n');
    // Delete.
    rmSync(path.join(dir, 'local.md'));
    await waitFor(() => serverMeta(server, WS, 'local.md')?.deleted === true);

    controller.abort();
    const r = await run;
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/watching .* ↔ workspace ws_start/);
    expect(r.out).toMatch(/renamed new.md → moved.md/);
    expect(r.out).toMatch(/stopped\n$/);
  });

  it('writes remote edits, renames and deletes to disk without echoing them back', async () => {
    const other = await otherEditor();
    // Remote edit.
    const framesBefore = server.core.framesByDoc.get(`body:${WS}/remote.md`) ?? 0;
    other.local.importFiles([{ path: 'remote.md', content: '---\ntitle: Remote\n---\n\nedited remotely\n' }]);
    await waitFor(() => fileText(dir, 'remote.md')?.endsWith('\n\nedited remotely\n') === true);
    await new Promise((r) => setTimeout(r, 400)); // longer than the debounce: an echo would have been sent
    await sync!.idle();
    // Only the other editor's frame(s) reached the server for this doc: the write was not echoed.
    const framesAfter = server.core.framesByDoc.get(`body:${WS}/remote.md`) ?? 0;
    expect(framesAfter - framesBefore).toBe(1);

    // Remote rename: old file removed, new file written; later edits land in the new file.
    expect(other.local.renameFile('remote.md', 'renamed.md')).toBe(true);
    await waitFor(
      () => fileText(dir, 'renamed.md') !== undefined && fileText(dir, 'remote.md') === undefined,
    );
    expect(fileText(dir, 'renamed.md')).toMatch(/\n\nedited remotely\n$/);
    other.local.importFiles([
      { path: 'renamed.md', content: '---\ntitle: Remote\n---\n\nedited after rename\n' },
    ]);
    await waitFor(() => fileText(dir, 'renamed.md')?.endsWith('\n\nedited after rename\n') === true);
    expect(serverBody(server, WS, 'renamed.md')).toBe('edited after rename\n');

    // Remote delete.
    expect(other.local.deleteFile('renamed.md')).toBe(true);
    await waitFor(() => fileText(dir, 'renamed.md') === undefined);

    other.client.stop();
    await other.done;
  });

  it('reconnects after the server drops the connection; offline edits sync afterwards', async () => {
    server.core.closeAll(1013, 'overloaded');
    writeFileSync(path.join(dir, 'offline.md'), 'written while reconnecting\n');
    await waitFor(() => serverBody(server, WS, 'offline.md') === 'written while reconnecting\n', 10000);
    expect(server.stats.accepted).toBeGreaterThanOrEqual(2);
  });
});
