/**
 * `WorkspaceCrdt`: the workspace doc (root `Y.Map` `files`, JSON-string `FileMetadata` values),
 * in path mode (keys are normalized paths) and doc-id mode (keys are UUIDs).
 */
import * as Y from 'yjs';
import { classifyChanges, emptyFileChanges, type FileChanges } from './file-changes';
import {
  createFileMetadata,
  parseFileMetadataJson,
  serializeFileMetadata,
  type FileMetadata,
} from './file-metadata';
import { LOAD_ORIGIN, LOCAL_ORIGIN, REMOTE_ORIGIN, type UpdateListener } from './origins';
import { baseName, isTempFile, normalizePath, parentDir, tryNormalizePath } from './paths';

/** Name of the root map of the workspace doc. */
export const FILES_MAP_NAME = 'files';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when a `files` key is a doc id (UUID) rather than a path. */
export function isDocIdKey(key: string): boolean {
  return UUID.test(key);
}

/**
 * One file of the workspace as returned by {@link WorkspaceCrdt.listFiles}. Also iterable as a
 * `[path, metadata]` pair, so `for (const [path, meta] of ws.listFiles())` works.
 */
export class WorkspaceFile {
  /** Creates an entry. */
  constructor(
    /** The canonical key in the `files` map (a path, or a UUID in doc-id mode). */
    readonly key: string,
    /** The file's workspace-relative path. */
    readonly path: string,
    /** Its metadata. */
    readonly metadata: FileMetadata,
  ) {}

  /** Yields `path`, then `metadata`. */
  *[Symbol.iterator](): IterableIterator<string | FileMetadata> {
    yield this.path;
    yield this.metadata;
  }
}

/** Options of {@link WorkspaceCrdt.listFiles}. */
export interface ListFilesOptions {
  /** Include tombstoned files (default false). */
  includeDeleted?: boolean;
}

interface RawEntry {
  raw: string;
  meta: FileMetadata;
}

/**
 * The workspace document. Wraps a `Y.Doc` (given or new); all writes are local transactions
 * (origin {@link LOCAL_ORIGIN}); {@link WorkspaceCrdt.applyUpdate} applies remote updates.
 *
 * Keys are collapsed by canonical path: raw keys `./x`, `/x` and `x` name one file; the entry
 * with the latest `modified_at` wins, a live entry beats a tombstone on a tie.
 */
export class WorkspaceCrdt {
  /** The underlying Yjs document. */
  readonly doc: Y.Doc;
  /** A label for the document (default `workspace`); not used by the model itself. */
  readonly name: string;
  /** The `files` map. */
  readonly files: Y.Map<string>;
  private aliasIndex: Map<string, string[]> | null = null;
  private readonly metaCache = new Map<string, { json: string; meta: FileMetadata }>();
  private applyingRemote = false;
  private collecting: Map<string, { existed: boolean; oldValue: string | undefined }> | null = null;

  /**
   * Wraps `doc` (default: a new `Y.Doc`). A leading name (`new WorkspaceCrdt('workspace')`, as
   * in the original API) is accepted and kept as {@link WorkspaceCrdt.name}.
   *
   * @throws TypeError when `doc` is given but is not a `Y.Doc`.
   */
  constructor(doc?: Y.Doc);
  /** Same, with a label kept as {@link WorkspaceCrdt.name}. */
  constructor(name: string, doc?: Y.Doc);
  constructor(nameOrDoc?: string | Y.Doc, maybeDoc?: Y.Doc) {
    const doc = (typeof nameOrDoc === 'string' ? maybeDoc : nameOrDoc) ?? new Y.Doc();
    this.name = typeof nameOrDoc === 'string' ? nameOrDoc : 'workspace';
    if (typeof (doc as Partial<Y.Doc> | null)?.getMap !== 'function') {
      throw new TypeError('WorkspaceCrdt expects a Y.Doc (or nothing)');
    }
    this.doc = doc;
    this.files = doc.getMap<string>(FILES_MAP_NAME);
    this.files.observe((event) => {
      for (const [key, change] of event.changes.keys) {
        if (change.action === 'delete') {
          this.metaCache.delete(key);
          this.indexRemove(key);
        } else if (change.action === 'add') this.indexAdd(key);
      }
      if (!this.collecting) return;
      for (const [key, change] of event.changes.keys) {
        if (this.collecting.has(key)) continue;
        this.collecting.set(key, {
          existed: change.action !== 'add',
          oldValue: typeof change.oldValue === 'string' ? change.oldValue : undefined,
        });
      }
    });
  }

  /** Creates a workspace from a full-state update (e.g. `storage.loadDoc`). */
  static fromUpdate(state: Uint8Array | null): WorkspaceCrdt {
    const ws = new WorkspaceCrdt();
    if (state) Y.applyUpdate(ws.doc, state, LOAD_ORIGIN);
    return ws;
  }

  // ---------------------------------------------------------------- path mode

  /**
   * Sets the metadata of the file at `path` (normalized; aliases of it are removed).
   * Temp files (`.tmp`, `.bak`, `.swap`, `~`) are ignored. An empty `filename` defaults to the
   * path's last segment.
   *
   * @returns false when the path is a temp file and nothing was written.
   * @throws {@link InvalidPathError} for an invalid path.
   */
  setFile(path: string, metadata: Partial<FileMetadata>): boolean {
    const key = normalizePath(path);
    if (isTempFile(key)) return false;
    const meta = createFileMetadata(metadata);
    if (!meta.filename && !isDocIdKey(key)) meta.filename = baseName(key);
    this.local(() => {
      for (const raw of this.rawKeysOf(key)) if (raw !== key) this.files.delete(raw);
      this.files.set(key, serializeFileMetadata(meta));
    });
    return true;
  }

  /** Metadata of the file (also tombstoned), or undefined. Invalid paths give undefined. */
  getFile(path: string): FileMetadata | undefined {
    const key = tryNormalizePath(path);
    if (key === null) return undefined;
    const meta = this.winner(key)?.meta;
    return meta ? cloneMetadata(meta) : undefined;
  }

  /**
   * Tombstones the file: `deleted: true`, `modified_at` bumped; it is also removed from its
   * parent's `contents`. The key stays.
   *
   * @returns false when there is no such file.
   */
  deleteFile(path: string): boolean {
    const key = tryNormalizePath(path);
    if (key === null) return false;
    const current = this.winner(key);
    if (!current) return false;
    const meta: FileMetadata = {
      ...current.meta,
      deleted: true,
      modified_at: bump(current.meta.modified_at),
    };
    this.local(() => {
      this.writeKey(key, meta);
      if (meta.part_of) this.removeChildLink(meta.part_of, key);
    });
    return true;
  }

  /** Hard-deletes every alias key of the file (garbage collection of tombstones). */
  removeFile(path: string): boolean {
    const key = tryNormalizePath(path);
    if (key === null) return false;
    const raws = this.rawKeysOf(key);
    if (raws.length === 0) return false;
    this.local(() => {
      for (const raw of raws) this.files.delete(raw);
    });
    return true;
  }

  /** The files (live only unless `includeDeleted`), sorted by path; temp files are skipped. */
  listFiles(opts: ListFilesOptions = {}): WorkspaceFile[] {
    const out: WorkspaceFile[] = [];
    for (const [key, meta] of this.entries()) {
      if (meta.deleted && !opts.includeDeleted) continue;
      const path = isDocIdKey(key) ? this.getPath(key) : key;
      if (path === undefined || isTempFile(path)) continue;
      out.push(new WorkspaceFile(key, path, meta));
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** Every entry (tombstones included) by canonical key, aliases collapsed; invalid keys skipped. */
  entries(): Map<string, FileMetadata> {
    const out = new Map<string, FileMetadata>();
    for (const key of this.index().keys()) {
      const w = this.winner(key);
      if (w) out.set(key, cloneMetadata(w.meta));
    }
    return out;
  }

  /** Number of canonical entries (tombstones included). */
  get size(): number {
    return this.index().size;
  }

  // ---------------------------------------------------------------- doc-id mode

  /**
   * Creates a file under a new UUID key and returns it. When `part_of` names a parent id, the
   * new id is appended to the parent's `contents`.
   */
  createFile(metadata: Partial<FileMetadata>): string {
    const id = globalThis.crypto.randomUUID();
    const meta = createFileMetadata(metadata);
    this.local(() => {
      this.files.set(id, serializeFileMetadata(meta));
      if (meta.part_of) this.addChildLink(meta.part_of, id);
    });
    return id;
  }

  /**
   * The path of a doc id: walks `part_of` to the root joining `filename`s. A parent that is a
   * markdown file (an index such as `notes/index.md`) contributes its folder (`notes`), any other
   * parent (a folder entry such as `notes`) its whole path; so the children of `README.md` live at
   * the root. A `filename` may hold sub-folders (`x/y.md`, written by
   * {@link WorkspaceCrdt.migrateToDocIds} for a file below its parent's folder) or start with `/`
   * (a path from the root that does not depend on the parents). Undefined on cycles, broken
   * chains (missing parent) and empty filenames. A path key returns itself.
   */
  getPath(id: string): string | undefined {
    return this.pathVia(id, (k) => this.winner(k)?.meta);
  }

  /** The path walk of {@link WorkspaceCrdt.getPath} over a given metadata lookup. */
  private pathVia(id: string, metaOf: (key: string) => FileMetadata | undefined): string | undefined {
    // Collect the chain child → root (names, or a full path at a path-key ancestor).
    const chain: string[] = [];
    const seen = new Set<string>();
    let current: string | null = id;
    let rootPath = '';
    while (current !== null) {
      if (seen.has(current)) return undefined;
      seen.add(current);
      if (!isDocIdKey(current)) {
        const key = tryNormalizePath(current);
        if (key === null || !metaOf(key)) return undefined;
        if (chain.length === 0) return key;
        rootPath = key;
        break;
      }
      const meta: FileMetadata | undefined = metaOf(current);
      if (!meta || !meta.filename) return undefined;
      chain.push(meta.filename);
      // An absolute filename (`/x/y.md`) does not depend on the parents.
      current = meta.filename.startsWith('/') ? null : meta.part_of;
    }
    // Resolve root → child.
    let path = rootPath;
    for (let i = chain.length - 1; i >= 0; i--) {
      const base = path === '' ? '' : childBase(path);
      const name = chain[i];
      path = name.startsWith('/') ? name : base === '' ? name : `${base}/${name}`;
    }
    return tryNormalizePath(path) ?? undefined;
  }

  /** The key of the live file at `path` (a doc id, or the path itself in path mode). */
  findByPath(path: string): string | undefined {
    const target = tryNormalizePath(path);
    if (target === null) return undefined;
    let fallback: string | undefined;
    for (const [key, meta] of this.entries()) {
      const p = isDocIdKey(key) ? this.getPath(key) : key;
      if (p !== target) continue;
      if (!meta.deleted) return key;
      fallback ??= key;
    }
    return fallback;
  }

  /**
   * Renames a file (doc-id mode): sets `filename` (a plain name keeps the folder part of a
   * migrated `x/old.md` filename), bumps `modified_at`; the id stays.
   */
  renameFile(id: string, name: string): boolean {
    const current = this.winner(id);
    if (!current) return false;
    const old = current.meta.filename;
    const filename =
      name.includes('/') || !old.includes('/') ? name : `${old.slice(0, old.lastIndexOf('/'))}/${name}`;
    const meta = { ...current.meta, filename, modified_at: bump(current.meta.modified_at) };
    this.local(() => {
      this.writeKey(id, meta);
      if (meta.part_of) this.addChildLink(meta.part_of, id);
    });
    return true;
  }

  /**
   * Moves a file under another parent (or to the root with `null`): updates `part_of`, removes
   * the id from the old parent's `contents` and appends it to the new parent's. The id stays.
   */
  moveFile(id: string, parentId: string | null): boolean {
    const current = this.winner(id);
    if (!current) return false;
    const old = current.meta.part_of;
    const meta = { ...current.meta, part_of: parentId, modified_at: bump(current.meta.modified_at) };
    this.local(() => {
      this.writeKey(id, meta);
      if (old && old !== parentId) this.removeChildLink(old, id);
      if (parentId) this.addChildLink(parentId, id);
    });
    return true;
  }

  /** True when some key is a path rather than a UUID. */
  needsMigration(): boolean {
    for (const key of this.files.keys()) if (!isDocIdKey(key)) return true;
    return false;
  }

  /**
   * Re-keys every path entry under a new UUID (one local transaction) so that every file keeps
   * its path ({@link WorkspaceCrdt.getPath} of the new id = the old key): `part_of` and
   * `contents` paths become the matching ids (unresolvable links are kept as they were);
   * `filename` becomes the path relative to the parent's folder (the last segment for a file
   * next to its index; `/full/path` for a file outside its parent's folder or with a broken
   * `part_of`). Returns the number of migrated entries.
   */
  migrateToDocIds(): number {
    const entries = [...this.entries()].filter(([key]) => !isDocIdKey(key));
    if (entries.length === 0) return 0;
    const idOf = new Map<string, string>(entries.map(([key]) => [key, globalThis.crypto.randomUUID()]));
    const mapLink = (link: string): string => {
      const p = tryNormalizePath(link);
      return (p !== null && idOf.get(p)) || link;
    };
    const filenameOf = (key: string, partOf: string | null): string => {
      const parent = partOf === null ? null : tryNormalizePath(partOf);
      // A link that resolves to no file stays as it was; the path is then kept absolute.
      if (partOf !== null && (parent === null || !idOf.has(parent))) return `/${key}`;
      return docIdFilename(key, parent);
    };
    this.local(() => {
      for (const [key, meta] of entries) {
        const next: FileMetadata = {
          ...meta,
          filename: filenameOf(key, meta.part_of),
          part_of: meta.part_of === null ? null : mapLink(meta.part_of),
          contents: meta.contents === null ? null : meta.contents.map(mapLink),
        };
        for (const raw of this.rawKeysOf(key)) this.files.delete(raw);
        this.files.set(idOf.get(key) as string, serializeFileMetadata(next));
      }
    });
    return entries.length;
  }

  // ---------------------------------------------------------------- sync

  /**
   * Applies a (remote) update and reports which files it created, deleted, restored, modified
   * or renamed (by path). Observers see it as non-local.
   *
   * @throws Error when the update is malformed.
   */
  applyUpdate(update: Uint8Array, origin: unknown = REMOTE_ORIGIN): FileChanges {
    const collecting = new Map<string, { existed: boolean; oldValue: string | undefined }>();
    this.collecting = collecting;
    this.applyingRemote = true;
    try {
      Y.applyUpdate(this.doc, update, origin);
    } finally {
      this.collecting = null;
      this.applyingRemote = false;
    }
    if (collecting.size === 0) return emptyFileChanges();
    return this.describeChanges(collecting);
  }

  /** The state vector (for SyncStep1). */
  getSyncState(): Uint8Array {
    return Y.encodeStateVector(this.doc);
  }

  /** What a peer with `stateVector` lacks (full state when omitted). */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, stateVector);
  }

  /**
   * Observes every update of the doc; `info.local` is false for updates applied through
   * {@link WorkspaceCrdt.applyUpdate} or loaded from storage. Returns an unsubscribe function.
   */
  onUpdate(listener: UpdateListener): () => void {
    const handler = (update: Uint8Array, origin: unknown): void => {
      const local = !this.applyingRemote && origin !== REMOTE_ORIGIN && origin !== LOAD_ORIGIN;
      listener(update, { origin, local });
    };
    this.doc.on('update', handler);
    return () => this.doc.off('update', handler);
  }

  // ---------------------------------------------------------------- internals

  private local(fn: () => void): void {
    this.doc.transact(fn, LOCAL_ORIGIN);
  }

  private index(): Map<string, string[]> {
    if (this.aliasIndex) return this.aliasIndex;
    const idx = new Map<string, string[]>();
    for (const raw of this.files.keys()) {
      const key = isDocIdKey(raw) ? raw : tryNormalizePath(raw);
      if (key === null) continue;
      const list = idx.get(key);
      if (list) list.push(raw);
      else idx.set(key, [raw]);
    }
    this.aliasIndex = idx;
    return idx;
  }

  private indexAdd(raw: string): void {
    if (!this.aliasIndex) return;
    const key = isDocIdKey(raw) ? raw : tryNormalizePath(raw);
    if (key === null) return;
    const list = this.aliasIndex.get(key);
    if (!list) this.aliasIndex.set(key, [raw]);
    else if (!list.includes(raw)) list.push(raw);
  }

  private indexRemove(raw: string): void {
    if (!this.aliasIndex) return;
    const key = isDocIdKey(raw) ? raw : tryNormalizePath(raw);
    if (key === null) return;
    const list = this.aliasIndex.get(key)?.filter((r) => r !== raw);
    if (!list || list.length === 0) this.aliasIndex.delete(key);
    else this.aliasIndex.set(key, list);
  }

  private rawKeysOf(key: string): string[] {
    return [...(this.index().get(key) ?? [])];
  }

  private winner(key: string): RawEntry | undefined {
    let best: RawEntry | undefined;
    for (const raw of this.rawKeysOf(key)) {
      const json = this.files.get(raw);
      if (typeof json !== 'string') continue;
      const meta = this.parseCached(raw, json, isDocIdKey(key) ? '' : baseName(key));
      if (!meta) continue;
      const cand = { raw, meta };
      if (!best || beats(cand, best, key)) best = cand;
    }
    return best;
  }

  /** Parsed metadata of a raw key, memoized per JSON value (callers must not mutate it). */
  private parseCached(raw: string, json: string, fallbackFilename: string): FileMetadata | null {
    const hit = this.metaCache.get(raw);
    if (hit && hit.json === json) return hit.meta;
    const meta = parseFileMetadataJson(json, fallbackFilename);
    if (meta) this.metaCache.set(raw, { json, meta });
    return meta;
  }

  private writeKey(key: string, meta: FileMetadata): void {
    for (const raw of this.rawKeysOf(key)) if (raw !== key) this.files.delete(raw);
    this.files.set(key, serializeFileMetadata(meta));
  }

  private removeChildLink(parent: string, child: string): void {
    const pKey = isDocIdKey(parent) ? parent : tryNormalizePath(parent);
    if (pKey === null) return;
    const p = this.winner(pKey);
    if (!p || !p.meta.contents) return;
    const contents = p.meta.contents.filter((c) => (isDocIdKey(c) ? c : tryNormalizePath(c)) !== child);
    if (contents.length !== p.meta.contents.length) this.writeKey(pKey, { ...p.meta, contents });
  }

  private addChildLink(parent: string, child: string): void {
    const p = this.winner(parent);
    if (!p) return;
    const contents = p.meta.contents ?? [];
    if (!contents.includes(child)) this.writeKey(parent, { ...p.meta, contents: [...contents, child] });
  }

  private describeChanges(
    changed: Map<string, { existed: boolean; oldValue: string | undefined }>,
  ): FileChanges {
    // Canonical keys touched by the update.
    const touched = new Set<string>();
    for (const raw of changed.keys()) {
      const key = isDocIdKey(raw) ? raw : tryNormalizePath(raw);
      if (key !== null && !isTempFile(key)) touched.add(key);
    }
    // Winner of each touched key before the update (untouched keys did not change).
    const beforeMeta = new Map<string, FileMetadata | undefined>();
    for (const key of touched) {
      const beforeRaw = new Set(
        this.rawKeysOf(key).filter((r) => !changed.has(r) || changed.get(r)?.existed),
      );
      for (const [raw, c] of changed) {
        if (c.existed && (isDocIdKey(raw) ? raw : tryNormalizePath(raw)) === key) beforeRaw.add(raw);
      }
      let b: RawEntry | undefined;
      for (const raw of beforeRaw) {
        const c = changed.get(raw);
        const json = c ? c.oldValue : this.files.get(raw);
        const meta =
          json === undefined ? null : parseFileMetadataJson(json, isDocIdKey(key) ? '' : baseName(key));
        if (!meta) continue;
        const cand = { raw, meta };
        if (!b || beats(cand, b, key)) b = cand;
      }
      beforeMeta.set(key, b?.meta);
    }
    const metaBefore = (k: string): FileMetadata | undefined =>
      beforeMeta.has(k) ? beforeMeta.get(k) : this.winner(k)?.meta;
    const before = new Map<string, FileMetadata | undefined>();
    const after = new Map<string, FileMetadata | undefined>();
    const idRenames: { from: string; to: string }[] = [];
    for (const key of touched) {
      const b = beforeMeta.get(key);
      const a = this.winner(key)?.meta;
      if (isDocIdKey(key)) {
        const oldPath = b ? this.pathVia(key, metaBefore) : undefined;
        const newPath = this.getPath(key);
        if (
          oldPath !== undefined &&
          newPath !== undefined &&
          oldPath !== newPath &&
          b &&
          a &&
          !b.deleted &&
          !a.deleted
        ) {
          idRenames.push({ from: oldPath, to: newPath });
          continue;
        }
        const path = newPath ?? oldPath;
        if (path === undefined) continue;
        before.set(path, b);
        after.set(path, a);
      } else {
        before.set(key, b);
        after.set(key, a);
      }
    }
    const result = classifyChanges(before, after);
    result.renamed.push(...idRenames);
    return result;
  }
}

/** A copy of metadata that shares nothing mutable with the cache. */
function cloneMetadata(m: FileMetadata): FileMetadata {
  return {
    ...m,
    contents: m.contents === null ? null : [...m.contents],
    attachments: m.attachments.map((a) => ({ ...a })),
    audience: m.audience === null ? null : [...m.audience],
    extra: structuredCloneSafe(m.extra),
  };
}

function structuredCloneSafe(extra: Record<string, unknown>): Record<string, unknown> {
  for (const v of Object.values(extra))
    if (v !== null && typeof v === 'object') return structuredClone(extra);
  return { ...extra };
}

/** True when `a` wins over `b` among aliases of `key`. */
function beats(a: RawEntry, b: RawEntry, key: string): boolean {
  if (a.meta.modified_at !== b.meta.modified_at) return a.meta.modified_at > b.meta.modified_at;
  if (a.meta.deleted !== b.meta.deleted) return !a.meta.deleted;
  if ((a.raw === key) !== (b.raw === key)) return a.raw === key;
  return a.raw < b.raw;
}

/**
 * The `filename` a file at `path` gets in doc-id mode under the parent at `parentPath` (`null`:
 * a root file), so that {@link WorkspaceCrdt.getPath} gives back `path`: the path relative to the
 * parent's folder (a markdown parent gives its own folder, a folder entry itself), or `/path` when
 * the file is not below it.
 */
export function docIdFilename(path: string, parentPath: string | null): string {
  return parentPath === null ? path : relativeTo(path, childBase(parentPath));
}

/** The folder a parent at `parentPath` gives its children: its folder for a markdown file, else itself. */
function childBase(parentPath: string): string {
  return /\.md$/i.test(parentPath) ? parentDir(parentPath) : parentPath;
}

/** `path` relative to folder `base` (`''` = root); `/path` when it is not below `base`. */
function relativeTo(path: string, base: string): string {
  if (base === '') return path;
  return path.startsWith(`${base}/`) ? path.slice(base.length + 1) : `/${path}`;
}

function bump(previous: number): number {
  return Math.max(Date.now(), previous + 1);
}
