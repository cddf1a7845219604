import { promises as fs } from 'node:fs';
import { watch, type FSWatcher } from 'chokidar';
import { parseMarkdownFiles, restyleMarkdown } from '@diaryx-sync/crdt';
import type { FileChangeSet, SyncEvent } from '@diaryx-sync/protocol/node';
import {
  isSyncedFile,
  readFileIfExists,
  readMarkdownFolder,
  removeFileAndEmptyParents,
  replaceFileIfUnchanged,
  toFilePath,
  toWorkspacePath,
  writeFileAtomic,
} from './folder';
import type { FileBase, LocalWorkspace } from './local-workspace';

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
 * disk.
 *
 * Per file, the base (text last synchronized between disk and the body doc, with the body doc
 * state of that moment) is remembered. A local edit is merged three-way (base → disk applied as
 * minimal operations onto the current docs, which may hold remote edits). Before a remote change
 * is written, the file on disk is compared with the base: an unsynced local edit is merged in
 * first and the merged result written, so a local edit is never overwritten. Our own writes equal
 * the base, so they are never read back as local edits.
 */
export class FolderSync {
  private watcher: FSWatcher | undefined;
  /** Per file: what was last synchronized between disk and the CRDT (the three-way merge base). */
  private readonly bases = new Map<string, FileBase>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Deleted files held back briefly to pair them with an add (a local rename). */
  /** Local deletes held back to detect renames: the body the file had on disk, and its base. */
  private readonly pendingUnlinks = new Map<
    string,
    { body: string; base: FileBase | undefined; timer: NodeJS.Timeout }
  >();
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
   * the workspace's `modified_at`). Runs in the file-operation queue: remote changes fed with
   * {@link onSyncEvent} meanwhile are written after it.
   */
  async reconcile(): Promise<{ imported: number; written: number }> {
    return this.exclusive(() => this.reconcileNow());
  }

  private async reconcileNow(): Promise<{ imported: number; written: number }> {
    const disk = new Map((await readMarkdownFolder(this.root)).map((f) => [f.path, f.content]));
    // One synchronous snapshot: each file's text with the body state it was rendered from (a
    // consistent base even if remote updates arrive during the awaits below).
    const remote = new Map(
      this.local.materialize().map((f) => [f.path, this.local.captureBase(f.path, f.content)]),
    );
    const toImport: { path: string; content: string }[] = [];
    let written = 0;
    for (const [p, content] of disk) {
      const canonical = remote.get(p);
      const theirs = canonical === undefined ? undefined : this.restyled(p, content, canonical);
      if (theirs === undefined) toImport.push({ path: p, content });
      else if (theirs.content !== content) {
        const stat = await fs.stat(toFilePath(this.root, p));
        const remoteModified = this.local.getFile(p)?.modified_at ?? 0;
        if (stat.mtimeMs > remoteModified) toImport.push({ path: p, content });
        else {
          await this.write(p, theirs);
          written++;
        }
      } else this.bases.set(p, theirs);
    }
    for (const [p, theirs] of remote) {
      if (!disk.has(p)) {
        await this.write(p, theirs);
        written++;
      }
    }
    if (toImport.length > 0) {
      this.local.importFiles(toImport);
      for (const f of toImport) {
        if (this.local.getFile(f.path)?.deleted === false)
          this.bases.set(f.path, this.local.captureBase(f.path, f.content));
      }
    }
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

  /**
   * Processes a change of the file at `path` now (what the debounced watcher does), then waits
   * for every queued operation. For tests and callers that drive the sync without the watcher.
   */
  async processLocalChange(path: string): Promise<void> {
    this.cancelTimer(path);
    this.enqueue(() => this.onDiskChange(path));
    await this.queue;
  }

  /** Writes the remote changes noted so far to disk now, then waits for every queued operation. */
  async processRemoteChanges(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.enqueue(() => this.flush());
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
    for (const { from, to } of renames) {
      await this.applyRemoteRename(from, to);
      dirty.add(to);
    }
    for (const p of deletes) if (await this.applyRemoteDelete(p)) dirty.add(p);
    // One materialization for the whole batch; each file's base state is captured with it.
    let snapshot = this.snapshot(dirty);
    for (const p of dirty) {
      // After merging a local edit, materialize again and write the merged text (a few rounds
      // at most: each round only repeats when the file changed again meanwhile).
      let settled = false;
      for (let round = 0; round < 4 && !settled; round++) {
        settled = !(await this.writeRemote(p, snapshot.get(p)));
        if (!settled) snapshot = this.snapshot(dirty);
      }
      if (!settled) this.markDirty(p); // still being edited: try again on the next flush
    }
  }

  /** The current text of each live path in `paths`, with the body state it was rendered from. */
  private snapshot(paths: ReadonlySet<string>): Map<string, FileBase> {
    const out = new Map<string, FileBase>();
    for (const f of this.local.materialize()) {
      if (paths.has(f.path)) out.set(f.path, this.local.captureBase(f.path, f.content));
    }
    return out;
  }

  /**
   * Writes the remote version `theirs` of `p` to disk, unless the file holds a local change not
   * yet synchronized (it differs from the base): then that change is merged into the docs first,
   * and `true` is returned (the caller re-materializes and calls again, which writes the merged
   * text).
   */
  private async writeRemote(p: string, theirs: FileBase | undefined): Promise<boolean> {
    if (theirs === undefined) return false; // not live (any more)
    const onDisk = await readFileIfExists(toFilePath(this.root, p));
    // Renamed or deleted remotely while the file was read: the next flush handles it (a local
    // edit merged now would resurrect the old path).
    if (this.isGoingAway(p)) return false;
    // Removed locally a moment ago (a delete or the first half of a rename, not yet processed):
    // writing it back would resurrect it; the local change decides.
    if (onDisk === undefined && (this.bases.has(p) || this.pendingUnlinks.has(p))) return false;
    const wanted = onDisk === undefined ? theirs : this.restyled(p, onDisk, theirs);
    if (onDisk === wanted.content) {
      this.bases.set(p, wanted);
      return false;
    }
    const base = this.bases.get(p);
    if (onDisk !== undefined && onDisk !== base?.content) {
      // An unsynced local edit: never overwrite it; merge it in, then write the merged result.
      return this.mergeLocal(p, base, onDisk, 'merged');
    }
    // Written only if the file still holds what was just read: an edit saved meanwhile is
    // merged on the next round instead of being overwritten.
    if (!(await replaceFileIfUnchanged(toFilePath(this.root, p), onDisk, wanted.content))) return true;
    this.bases.set(p, wanted);
    this.options.log?.(`updated ${p} (remote)`);
    return false;
  }

  /**
   * The remote version `theirs` of `p` as it should be written over the copy `onDisk`: the copy
   * itself when both mean the same, else the copy's style with the changed keys and body
   * (`restyleMarkdown`). Its body state is unchanged: both texts have the same body.
   */
  private restyled(p: string, onDisk: string, theirs: FileBase): FileBase {
    const knownPaths = new Set(this.local.livePaths());
    return {
      content: restyleMarkdown(onDisk, theirs.content, { path: p, knownPaths }),
      bodyState: theirs.bodyState,
    };
  }

  /** Whether `p` is no longer live, or renamed remotely and not yet moved on disk. */
  private isGoingAway(p: string): boolean {
    return this.local.getFile(p)?.deleted !== false || this.renames.some((r) => r.from === p);
  }

  /** Merges the local text `content` of `p` (base → content) into the docs; true when merged. */
  private mergeLocal(p: string, base: FileBase | undefined, content: string, what: string): boolean {
    this.cancelTimer(p);
    const r = this.local.mergeLocalEdit(p, base, content);
    if (r.problem !== undefined) this.options.onError?.(new Error(`${p}: ${r.problem}`));
    if (r.base === undefined) return false;
    this.bases.set(p, r.base);
    this.options.log?.(`${what} ${p}`);
    return true;
  }

  /**
   * A remote rename: the old file is removed; an unsynced local edit of it is not lost but
   * applied to the renamed doc (and so written under the new path).
   */
  private async applyRemoteRename(from: string, to: string): Promise<void> {
    const onDisk = await readFileIfExists(toFilePath(this.root, from));
    const base = this.bases.get(from);
    this.cancelTimer(from);
    if (onDisk === undefined) {
      this.bases.delete(from);
      return;
    }
    if (base === undefined) return; // never synchronized: not ours to remove
    this.bases.delete(from);
    if (onDisk !== base.content) {
      // Edited locally while renamed remotely: carry the edit over to the new path (or to where
      // it was renamed again while the file was read).
      let target = to;
      for (const r of this.renames) if (r.from === target) target = r.to;
      const r = this.local.mergeLocalEdit(target, base, onDisk);
      if (r.problem !== undefined) this.options.onError?.(new Error(`${target}: ${r.problem}`));
      if (r.base === undefined) return; // could not carry it over: keep the old file
      this.options.log?.(`merged local edits of ${from} into ${target}`);
    }
    await this.remove(from);
    this.options.log?.(`renamed ${from} → ${to} (remote)`);
  }

  /**
   * A remote delete: the file is removed unless it holds an unsynced local edit; then the edit
   * wins and the file is restored (returns true: write it).
   */
  private async applyRemoteDelete(p: string): Promise<boolean> {
    if (this.local.getFile(p)?.deleted === false) return false; // live again
    const onDisk = await readFileIfExists(toFilePath(this.root, p));
    if (this.local.getFile(p)?.deleted === false) return false; // restored meanwhile
    const base = this.bases.get(p);
    if (onDisk === undefined) {
      this.bases.delete(p);
      return false;
    }
    if (base === undefined) return false; // never synchronized: the watcher imports it
    if (onDisk !== base.content) {
      return this.mergeLocal(p, base, onDisk, 'kept (edited locally, deleted remotely)');
    }
    await this.remove(p);
    this.options.log?.(`deleted ${p} (remote)`);
    return false;
  }

  private async write(p: string, base: FileBase): Promise<void> {
    this.bases.set(p, base);
    await writeFileAtomic(toFilePath(this.root, p), base.content);
  }

  private async remove(p: string): Promise<void> {
    this.bases.delete(p);
    await removeFileAndEmptyParents(this.root, toFilePath(this.root, p));
  }

  // ------------------------------------------------------------------------ disk → CRDT

  private cancelTimer(p: string): void {
    clearTimeout(this.timers.get(p));
    this.timers.delete(p);
  }

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

  /** Runs `job` in the queue (after, and before, every other file operation); its result or error is returned. */
  private exclusive<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async onDiskChange(p: string): Promise<void> {
    const content = await readFileIfExists(toFilePath(this.root, p));
    // Renamed remotely and not yet written: the flush carries a local edit over to the new path.
    if (this.renames.some((r) => r.from === p)) return;
    if (content === undefined) {
      if (!this.bases.has(p) && this.local.getFile(p)?.deleted !== false) return;
      const base = this.bases.get(p);
      this.bases.delete(p);
      // Hold the delete briefly: an add with the same body right after is a rename. The body
      // compared is the one the file had on disk (remote edits may have reached the doc since).
      const body = (base && bodyOf(p, base.content)) ?? this.local.bodyText(p);
      const timer = setTimeout(() => {
        this.pendingUnlinks.delete(p);
        this.enqueue(async () => {
          if ((await readFileIfExists(toFilePath(this.root, p))) !== undefined) return;
          if (this.local.deleteFile(p)) this.options.log?.(`deleted ${p}`);
        });
      }, this.debounceMs * 2);
      this.pendingUnlinks.set(p, { body, base, timer });
      return;
    }
    const base = this.bases.get(p);
    if (content === base?.content) return; // our own write, or no change
    const live = this.local.getFile(p)?.deleted === false;
    if (live || base !== undefined) {
      // Three-way merge against what was last synchronized: remote edits that reached the docs
      // since then are kept. (A tombstoned file with a base was deleted remotely while edited
      // here: the edit wins and the file is restored.)
      this.mergeLocal(p, base, content, 'changed');
      return;
    }
    // A file deleted a moment ago with the same body: a rename. Move the body doc (one
    // history, so other clients keep one body stream), then apply any metadata difference.
    const body = parseMarkdownFiles([{ path: p, content }]).bodies.get(p);
    let renamedFrom: string | undefined;
    let renamedBase: FileBase | undefined;
    for (const [old, pending] of this.pendingUnlinks) {
      if (body !== undefined && pending.body === body && this.local.renameFile(old, p)) {
        clearTimeout(pending.timer);
        this.pendingUnlinks.delete(old);
        renamedFrom = old;
        renamedBase = pending.base;
        break;
      }
    }
    // The watcher may report the add before the unlink: look for a known file that vanished.
    if (renamedFrom === undefined && body !== undefined) {
      for (const [old, oldBase] of [...this.bases]) {
        if (old === p || bodyOf(old, oldBase.content) !== body) continue;
        if ((await readFileIfExists(toFilePath(this.root, old))) !== undefined) continue;
        if (this.local.renameFile(old, p)) {
          this.bases.delete(old);
          renamedFrom = old;
          renamedBase = oldBase;
          break;
        }
      }
    }
    if (renamedFrom !== undefined && renamedBase !== undefined) {
      // Merged against what the old file held: edits other clients made meanwhile survive, and
      // the merged text is written back by the next flush.
      const r = this.local.mergeLocalEdit(p, renamedBase, content);
      if (r.problem !== undefined) this.options.onError?.(new Error(`${p}: ${r.problem}`));
      if (r.base !== undefined) {
        this.bases.set(p, r.base);
        this.markDirty(p);
      }
      this.options.log?.(`renamed ${renamedFrom} → ${p}`);
      return;
    }
    const summary = this.local.importFiles([{ path: p, content }], { now: Date.now() });
    for (const problem of summary.problems)
      this.options.onError?.(new Error(`${problem.path}: ${problem.message}`));
    if (this.local.getFile(p)?.deleted !== false) return;
    this.bases.set(p, this.local.captureBase(p, content));
    this.options.log?.(renamedFrom !== undefined ? `renamed ${renamedFrom} → ${p}` : `added ${p}`);
  }
}

/** The body of a markdown file's text (undefined when it cannot be parsed). */
function bodyOf(p: string, content: string): string | undefined {
  return parseMarkdownFiles([{ path: p, content }]).bodies.get(p);
}
