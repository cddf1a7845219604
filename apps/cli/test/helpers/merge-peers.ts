/** Two hand-driven FolderSync peers linked by a manual relay (deterministic merge tests). */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FolderSync, LocalWorkspace } from '@diaryx-sync/cli';

export const WS = 'ws_merge';
export const BASE_TEXT = 'line one\nline two\nline three\n';
export const UPDATED = 'updated: 2023-11-14T22:13:20.000Z';

/**
 * One side of the sync (a folder, its FolderSync and LocalWorkspace) driven by hand, without a
 * watcher or a socket: local updates queue in `outbox` until the test delivers them.
 */
export interface Peer {
  readonly dir: string;
  readonly local: LocalWorkspace;
  readonly sync: FolderSync;
  readonly outbox: { docId: string; update: Uint8Array }[];
  readonly log: string[];
}

const dirs: string[] = [];
/** Removes the peers' folders (call in afterAll). */
export function removePeerDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function peer(): Peer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'diaryx-merge-'));
  dirs.push(dir);
  const local = new LocalWorkspace(WS);
  const outbox: Peer['outbox'] = [];
  local.forwardTo((docId, update) => outbox.push({ docId, update }));
  const log: string[] = [];
  const sync = new FolderSync(dir, local, {
    debounceMs: 300,
    log: (l) => log.push(l),
    onError: (e) => {
      throw e;
    },
  });
  return { dir, local, sync, outbox, log };
}

/**
 * Delivers `from`'s queued local updates to `to` the way the sync session does (workspace first;
 * a remote rename moves the body doc), feeding the change events to `to`'s FolderSync.
 */
export function deliver(from: Peer, to: Peer): void {
  const docs = to.local.documents;
  for (const { docId, update } of from.outbox.splice(0)) {
    if (docId === `workspace:${WS}`) {
      const changes = docs.workspace.applyRemoteUpdate(update);
      for (const r of changes.renamed) docs.bodies.rename(r.from, r.to);
      to.sync.onSyncEvent({ type: 'FilesChanged', changes });
    } else {
      const p = docId.slice(`body:${WS}/`.length);
      if (docs.bodies.get(p).applyRemoteUpdate(update)) to.sync.onSyncEvent({ type: 'BodyChanged', path: p });
    }
  }
}

export const read = (p: Peer, file: string): string | undefined =>
  existsSync(path.join(p.dir, file)) ? readFileSync(path.join(p.dir, file), 'utf8') : undefined;
export const write = (p: Peer, file: string, text: string): void =>
  writeFileSync(path.join(p.dir, file), text);

/** Two peers that both have `f.md` synchronized (A imported it from its folder, B wrote it). */
export async function twoPeers(
  content = `---\ntitle: F\n${UPDATED}\n---\n\n${BASE_TEXT}`,
): Promise<[Peer, Peer]> {
  const a = peer();
  const b = peer();
  write(a, 'f.md', content);
  await a.sync.reconcile();
  deliver(a, b);
  await b.sync.reconcile();
  b.outbox.splice(0);
  expect(read(b, 'f.md')).toBe(content);
  // Settle: no flush left pending from the setup.
  await a.sync.processRemoteChanges();
  await b.sync.processRemoteChanges();
  expect(read(b, 'f.md')).toBe(content);
  return [a, b];
}
