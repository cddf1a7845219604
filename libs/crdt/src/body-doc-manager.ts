/**
 * `BodyDocManager`: the body docs of one workspace, loaded lazily, bounded in number with
 * least-recently-used unloading, persisted to a {@link CrdtStorage} when one is given.
 */
import * as Y from 'yjs';
import { BodyDoc } from './body-doc';
import { bodyDocIdPrefix } from './doc-ids';
import { LOAD_ORIGIN } from './origins';
import { normalizePath } from './paths';
import type { CrdtStorage, UpdateMeta } from './storage/crdt-storage';

/** Options of {@link BodyDocManager}. */
export interface BodyDocManagerOptions {
  /** Where body docs are loaded from and every update is appended to. */
  storage?: CrdtStorage;
  /** Workspace id; storage doc ids are then `body:{workspaceId}/{path}`. */
  workspaceId?: string;
  /** Custom path → storage doc id mapping (wins over `workspaceId`). Default: the path. */
  docName?: (path: string) => string;
  /**
   * Upper bound on loaded docs (default 1000). Only enforced with a storage: the least
   * recently used doc is unloaded after its updates are persisted.
   */
  maxLoaded?: number;
  /** Metadata recorded with persisted updates (default origin `local`). */
  updateMeta?: UpdateMeta;
}

interface Entry {
  doc: BodyDoc;
  loaded: Promise<void>;
  unsubscribe: () => void;
}

/** Manages the body docs of a workspace by normalized path. */
export class BodyDocManager {
  private readonly storage: CrdtStorage | undefined;
  private readonly docNameOf: (path: string) => string;
  private readonly maxLoaded: number;
  private readonly updateMeta: UpdateMeta;
  /** Insertion order = recency order (oldest first). */
  private readonly docs = new Map<string, Entry>();
  /** Pending storage writes per storage doc id (serialized per doc). */
  private readonly writes = new Map<string, Promise<void>>();
  private writeError: unknown = null;

  /** Creates an empty manager: `new BodyDocManager({ storage, workspaceId })`. */
  constructor(opts: BodyDocManagerOptions = {}) {
    this.storage = opts.storage;
    const ws = opts.workspaceId;
    this.docNameOf =
      opts.docName ?? (ws !== undefined ? (p: string) => `${bodyDocIdPrefix(ws)}${p}` : (p: string) => p);
    this.maxLoaded = Math.max(1, opts.maxLoaded ?? 1000);
    this.updateMeta = opts.updateMeta ?? {};
  }

  /**
   * The doc for `path`, created if not loaded (lazily loading its stored state in the
   * background; await {@link BodyDocManager.open} or {@link BodyDocManager.whenLoaded} to be
   * sure it is there). Marks it most recently used; may unload the least recently used doc.
   *
   * @throws {@link InvalidPathError} for an invalid path.
   */
  getOrCreate(path: string): BodyDoc {
    const key = normalizePath(path);
    const existing = this.docs.get(key);
    if (existing) {
      this.docs.delete(key);
      this.docs.set(key, existing);
      return existing.doc;
    }
    const doc = new BodyDoc(key);
    const entry: Entry = { doc, loaded: Promise.resolve(), unsubscribe: () => undefined };
    if (this.storage) {
      const storage = this.storage;
      entry.unsubscribe = doc.onUpdate((update, info) => {
        if (info.origin !== LOAD_ORIGIN)
          this.enqueue(this.docNameOf(doc.name), (name) =>
            storage.appendUpdate(name, update, this.updateMeta).then(() => undefined),
          );
      });
      const name = this.docNameOf(key);
      const pending = this.writes.get(name);
      if (typeof storage.loadDocSync === 'function') {
        // In-memory storage: writes are applied when called, so load right here. A pending
        // rename may still move rows: load once more after it (applying twice is harmless).
        try {
          const state = storage.loadDocSync(name);
          if (state) Y.applyUpdate(doc.doc, state, LOAD_ORIGIN);
          if (pending)
            entry.loaded = pending
              .catch(() => undefined)
              .then(() => storage.loadDoc(name))
              .then((later) => {
                if (later) Y.applyUpdate(doc.doc, later, LOAD_ORIGIN);
              });
        } catch (err) {
          entry.loaded = Promise.reject(err);
        }
      } else {
        // Start the read right away unless writes for this doc are still pending.
        const read = pending
          ? pending.catch(() => undefined).then(() => storage.loadDoc(name))
          : startSafely(() => storage.loadDoc(name));
        entry.loaded = read.then((state) => {
          if (state) Y.applyUpdate(doc.doc, state, LOAD_ORIGIN);
        });
      }
      entry.loaded.catch(() => undefined);
    }
    this.docs.set(key, entry);
    this.evict();
    return doc;
  }

  /** Like {@link BodyDocManager.getOrCreate}, resolving once the stored state is loaded. */
  async open(path: string): Promise<BodyDoc> {
    const doc = this.getOrCreate(path);
    await this.whenLoaded(path);
    return doc;
  }

  /** Resolves once the doc's stored state is applied (immediately when not loaded). */
  async whenLoaded(path: string): Promise<void> {
    await this.docs.get(normalizePath(path))?.loaded;
  }

  /** The loaded doc for `path`, without creating or touching recency. */
  get(path: string): BodyDoc | undefined {
    return this.docs.get(normalizePath(path))?.doc;
  }

  /** True when a doc for `path` is loaded. */
  hasDoc(path: string): boolean {
    const key = normalizePath(path);
    return this.docs.has(key);
  }

  /** Paths of the loaded docs, least recently used first. */
  loadedPaths(): string[] {
    return [...this.docs.keys()];
  }

  /** Number of loaded docs. */
  get size(): number {
    return this.docs.size;
  }

  /**
   * Unloads the doc (its pending updates are still persisted; storage rows are kept).
   * @returns false when it was not loaded.
   */
  removeDoc(path: string): boolean {
    const key = normalizePath(path);
    const entry = this.docs.get(key);
    if (!entry) return false;
    this.docs.delete(key);
    this.retire(entry);
    return true;
  }

  /**
   * Renames a doc: the in-memory doc (if loaded) moves to `newPath` and keeps emitting under the
   * new name; the storage rows move too (destination overwritten, in memory and in storage). A
   * source that is neither loaded nor stored is a no-op (the destination is left untouched).
   */
  async renameDoc(oldPath: string, newPath: string): Promise<void> {
    const from = normalizePath(oldPath);
    const to = normalizePath(newPath);
    if (from === to) return;
    const entry = this.docs.get(from);
    if (!entry) {
      // Not loaded: a no-op unless the source exists in storage.
      if (!this.storage) return;
      const fromName = this.docNameOf(from);
      await this.pending(fromName);
      if (!(await this.storage.listDocs(fromName)).includes(fromName)) return;
      if (this.docs.has(from)) return this.renameDoc(oldPath, newPath); // loaded meanwhile
    }
    const displaced = this.docs.get(to);
    if (displaced) {
      this.docs.delete(to);
      this.retire(displaced);
    }
    if (entry) {
      this.docs.delete(from);
      entry.doc.setName(to);
      this.docs.set(to, entry);
    }
    if (this.storage) {
      const storage = this.storage;
      const fromName = this.docNameOf(from);
      const toName = this.docNameOf(to);
      if (entry) await entry.loaded.catch(() => undefined);
      await this.pending(fromName);
      await this.pending(toName);
      const rename = this.enqueue(toName, () => storage.renameDoc(fromName, toName));
      await rename;
    }
  }

  /** Resolves when every update so far is persisted; rejects with the first write error. */
  async flush(): Promise<void> {
    while (this.writes.size > 0)
      await Promise.all([...this.writes.values()].map((p) => p.catch(() => undefined)));
    if (this.writeError) {
      const err = this.writeError;
      this.writeError = null;
      throw err;
    }
  }

  /** Persists pending updates and unloads every doc. */
  async close(): Promise<void> {
    for (const [key, entry] of [...this.docs]) {
      this.docs.delete(key);
      this.retire(entry);
    }
    await this.flush();
  }

  private evict(): void {
    if (!this.storage) return;
    while (this.docs.size > this.maxLoaded) {
      const [key, entry] = this.docs.entries().next().value as [string, Entry];
      this.docs.delete(key);
      this.retire(entry);
    }
  }

  private retire(entry: Entry): void {
    const finish = (): void => {
      entry.unsubscribe();
      entry.doc.destroy();
    };
    // Destroy only after the stored state was applied and every queued write is done.
    void entry.loaded
      .catch(() => undefined)
      .then(() => this.pending(this.docNameOf(entry.doc.name)))
      .then(finish, finish);
  }

  private async pending(name: string): Promise<void> {
    await this.writes.get(name)?.catch(() => undefined);
  }

  private enqueue(name: string, write: (name: string) => Promise<void>): Promise<void> {
    // Writes of one doc run in order; with nothing pending the write starts synchronously, so
    // a storage that appends synchronously (MemoryStorage) is up to date right after the edit.
    // A synchronous storage (one with `loadDocSync`) applies each write when it is called, so
    // its writes start at once (still in call order) and are visible to the next load.
    const prev = this.writes.get(name);
    const run =
      prev && typeof this.storage?.loadDocSync !== 'function'
        ? prev.catch(() => undefined).then(() => write(name))
        : startSafely(() => write(name));
    const next = run.catch((err: unknown) => {
      this.writeError ??= err;
      throw err;
    });
    const tracked = next.finally(() => {
      if (this.writes.get(name) === tracked) this.writes.delete(name);
    });
    tracked.catch(() => undefined);
    this.writes.set(name, tracked);
    return next;
  }
}

/** Calls `fn` now, turning a synchronous throw into a rejected promise. */
function startSafely<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err);
  }
}
