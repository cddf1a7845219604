import { promises as fs } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { parseMarkdownFiles } from '@diaryx-sync/crdt';
import type { FileChangeSet, SyncEvent } from '@diaryx-sync/protocol';
import {
  isSyncedFile,
  readFileIfExists,
  readMarkdownFolder,
  removeFileAndEmptyParents,
  toFilePath,
  toWorkspacePath,
  writeFileAtomic,
} from './folder';
import type { LocalWorkspace } from './local-workspace';

/** Options of a {@link FolderSync}. */
export interface FolderSyncOptions {
  /** Quiet time before a changed file is read (default 300 ms). */
  readonly debounceMs?: number;
  /** Called for each applied change (for logging). */
  readonly log?: (line: string) => void;
  /** Called when a local file operation fails (the sync goes on). */
  readonly onError?: (err: unknown) => void;
}

/**
 * Keeps a folder and a {@link LocalWorkspace} in sync both ways: a chokidar watcher (debounced)
 * turns file edits into minimal CRDT changes; remote changes, renames and deletes are written to
 * disk. What we wrote is remembered, so our own writes are never read back as local edits.
 */
export class FolderSync {
  private watcher: FSWatcher | undefined;
  /** Content we know is on disk (we wrote it or imported it). */
  private readonly known = new Map<string, string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Deleted files held back briefly to pair them with an add (a local rename). */
  private readonly pendingUnlinks = new Map<string, { body: string; timer: NodeJS.Timeout }>();
  private readonly dirty = new Set<string>();
  private readonly renames: { from: string; to: string }[] = [];
  private readonly deletes = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private readonly debounceMs: number;

  constructor(
    private readonly root: string,
    private readonly local: LocalWorkspace,
    private readonly options: FolderSyncOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 300;
  }

  /**
   * First reconciliation after the initial sync: files only on disk are imported, files only in
   * the workspace are written, and for files on both sides the newer one wins (file mtime vs
   * the workspace's `modified_at`).
   */
  async reconcile(): Promise<{ imported: number; written: number }> {
    const disk = new Map((await readMarkdownFolder(this.root)).map((f) => [f.path, f.content]));
    const remote = new Map(this.local.materialize().map((f) => [f.path, f.content]));
    const toImport: { path: string; content: string }[] = [];
    let written = 0;
    for (const [p, content] of disk) {
      const theirs = remote.get(p);
      if (theirs === undefined) toImport.push({ path: p, content });
      else if (theirs !== content) {
        const stat = await fs.stat(toFilePath(this.root, p));
        const remoteModified = this.local.workspace.getFile(p)?.modified_at ?? 0;
        if (stat.mtimeMs > remoteModified) toImport.push({ path: p, content });
        else {
          await this.write(p, theirs);
          written++;
          continue;
        }
      }
      this.known.set(p, content);
    }
    for (const [p, content] of remote) {
      if (!disk.has(p)) {
        await this.write(p, content);
        written++;
      }
    }
    if (toImport.length > 0) this.local.importFiles(toImport);
    return { imported: toImport.length, written };
  }

  /** Starts watching the folder; resolves once the watcher is ready. */
  async watch(): Promise<void> {
    const watcher = watch(this.root, {
      ignoreInitial: true,
      ignored: (p: string) => {
        const rel = toWorkspacePath(this.root, p);
        return rel !== '' && rel.split('/').some((seg) => seg.startsWith('.') || seg === 'node_modules');
      },
      awaitWriteFinish: false,
    });
    this.watcher = watcher;
    const onFile = (file: string): void => {
      const rel = toWorkspacePath(this.root, file);
      if (isSyncedFile(rel)) this.schedule(rel);
    };
    watcher.on('add', onFile).on('change', onFile).on('unlink', onFile);
    watcher.on('error', (err) => this.options.onError?.(err));
    await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  }

  /** Feeds a client event: remote file changes are written to disk. */
  onSyncEvent(event: SyncEvent): void {
    if (event.type === 'FilesChanged') this.noteRemote(event.changes);
    else if (event.type === 'BodyChanged') this.markDirty(event.path);
  }

  /** Stops watching; waits for queued file operations. */
  async close(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const u of this.pendingUnlinks.values()) clearTimeout(u.timer);
    clearTimeout(this.flushTimer);
    await this.watcher?.close();
    await this.queue;
  }

  /** Waits until every queued file operation is done (tests). */
  async idle(): Promise<void> {
    await this.queue;
  }

  // ------------------------------------------------------------------------ remote → disk

  private noteRemote(c: FileChangeSet): void {
    for (const r of c.renamed) this.renames.push({ from: r.from, to: r.to });
    for (const p of c.deleted) this.deletes.add(p);
    for (const p of [...c.created, ...c.modified, ...c.restored]) this.dirty.add(p);
    this.scheduleFlush();
  }

  private markDirty(p: string): void {
    this.dirty.add(p);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = setTimeout(() => this.enqueue(() => this.flush()), 30);
  }

  private async flush(): Promise<void> {
    const renames = this.renames.splice(0);
    const deletes = [...this.deletes];
    this.deletes.clear();
    const dirty = new Set(this.dirty);
    this.dirty.clear();
    const content = new Map(this.local.materialize().map((f) => [f.path, f.content]));
    for (const { from, to } of renames) {
      const onDisk = await readFileIfExists(toFilePath(this.root, from));
      if (onDisk !== undefined && onDisk === this.known.get(from)) {
        await this.remove(from);
        this.options.log?.(`renamed ${from} → ${to} (remote)`);
      }
      dirty.add(to);
    }
    for (const p of deletes) {
      if (content.has(p)) continue;
      await this.remove(p);
      this.options.log?.(`deleted ${p} (remote)`);
    }
    for (const p of dirty) {
      const text = content.get(p);
      if (text === undefined) continue;
      const onDisk = await readFileIfExists(toFilePath(this.root, p));
      if (onDisk === text) {
        this.known.set(p, text);
        continue;
      }
      await this.write(p, text);
      this.options.log?.(`updated ${p} (remote)`);
    }
  }

  private async write(p: string, text: string): Promise<void> {
    this.known.set(p, text);
    await writeFileAtomic(toFilePath(this.root, p), text);
  }

  private async remove(p: string): Promise<void> {
    this.known.delete(p);
    await removeFileAndEmptyParents(this.root, toFilePath(this.root, p));
  }

  // ------------------------------------------------------------------------ disk → CRDT

  private schedule(p: string): void {
    clearTimeout(this.timers.get(p));
    this.timers.set(
      p,
      setTimeout(() => {
        this.timers.delete(p);
        this.enqueue(() => this.onDiskChange(p));
      }, this.debounceMs),
    );
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch((err: unknown) => this.options.onError?.(err));
  }

  private async onDiskChange(p: string): Promise<void> {
    const content = await readFileIfExists(toFilePath(this.root, p));
    if (content === undefined) {
      if (!this.known.has(p) && this.local.workspace.getFile(p)?.deleted !== false) return;
      this.known.delete(p);
      // Hold the delete briefly: an add with the same body right after is a rename.
      const body = this.local.bodyText(p);
      const timer = setTimeout(() => {
        this.pendingUnlinks.delete(p);
        this.enqueue(async () => {
          if ((await readFileIfExists(toFilePath(this.root, p))) !== undefined) return;
          if (this.local.deleteFile(p)) this.options.log?.(`deleted ${p}`);
        });
      }, this.debounceMs * 2);
      this.pendingUnlinks.set(p, { body, timer });
      return;
    }
    if (content === this.known.get(p)) return; // our own write, or no change
    const live = this.local.workspace.getFile(p)?.deleted === false;
    if (!live) {
      // A file deleted a moment ago with the same body: a rename. Move the body doc (one
      // history, so other clients keep one body stream), then apply any metadata difference.
      const body = parseMarkdownFiles([{ path: p, content }]).bodies.get(p);
      let renamedFrom: string | undefined;
      for (const [old, pending] of this.pendingUnlinks) {
        if (body !== undefined && pending.body === body && this.local.renameFile(old, p)) {
          clearTimeout(pending.timer);
          this.pendingUnlinks.delete(old);
          renamedFrom = old;
          break;
        }
      }
      // The watcher may report the add before the unlink: look for a known file that vanished.
      if (renamedFrom === undefined && body !== undefined) {
        for (const old of [...this.known.keys()]) {
          if (old === p || this.local.bodyText(old) !== body) continue;
          if ((await readFileIfExists(toFilePath(this.root, old))) !== undefined) continue;
          if (this.local.renameFile(old, p)) {
            this.known.delete(old);
            renamedFrom = old;
            break;
          }
        }
      }
      this.local.importFiles([{ path: p, content }], { now: Date.now() });
      this.options.log?.(renamedFrom !== undefined ? `renamed ${renamedFrom} → ${p}` : `added ${p}`);
    } else {
      this.local.importFiles([{ path: p, content }]);
      this.options.log?.(`changed ${p}`);
    }
    this.known.set(p, content);
  }
}
