/**
 * `HistoryManager`: version history over the update log of a {@link CrdtStorage}, diffs between
 * versions, and restore as a forward update.
 */
import * as Y from 'yjs';
import { BODY_TEXT_NAME, BodyDoc } from './body-doc';
import { isDocId, parseDocId, WORKSPACE_DOC_PREFIX, type ParsedDocId } from './doc-ids';
import { changedPaths } from './file-changes';
import { serializeFileMetadata, type FileMetadata } from './file-metadata';
import { LOCAL_ORIGIN } from './origins';
import type { CrdtStorage, UpdateMeta } from './storage/crdt-storage';
import { FILES_MAP_NAME, WorkspaceCrdt } from './workspace-crdt';

/** One version: an update of the log (newest first in {@link HistoryManager.getHistory}). */
export interface HistoryEntry {
  /** Id of the update in the log. */
  update_id: number;
  /** ms since epoch. */
  timestamp: number;
  /** Origin tag recorded with the update. */
  origin: string;
  /** Device id of the author, or null. */
  device_id: string | null;
  /** Device name of the author, or null. */
  device_name: string | null;
  /** User (token `sub`) whose connection sent the update, or null (server-side or older updates). */
  user: string | null;
  /** Paths the update changed (for a body doc: its path, if the content changed). */
  files_changed: string[];
}

/** How a file differs between two versions, by name: `FileChangeKind.Added === 'Added'`. */
export const FileChangeKind = {
  /** Live in the later version, absent in the earlier one. */
  Added: 'Added',
  /** Live in both, metadata (or body) changed. */
  Modified: 'Modified',
  /** Live in the earlier version, tombstoned or absent in the later one. */
  Deleted: 'Deleted',
  /** Tombstoned in the earlier version, live in the later one. */
  Restored: 'Restored',
} as const;

/** How a file differs between two versions. */
export type FileChangeKind = (typeof FileChangeKind)[keyof typeof FileChangeKind];

/** One file of a {@link HistoryManager.diff}. */
export interface FileDiff {
  /** Workspace-relative path. */
  path: string;
  /** How it changed. */
  change: FileChangeKind;
  /** Its metadata at the older version (null: no entry then). */
  old: FileMetadata | null;
  /** Its metadata at the newer version (null: no entry then). */
  new: FileMetadata | null;
}

/** Result of {@link HistoryManager.restoreToVersion}. */
export interface RestoreResult {
  /** The forward update (empty-effect updates are still returned; `changed` tells). */
  update: Uint8Array;
  /** True when the document content changed. */
  changed: boolean;
  /** Id of the appended update, or null when nothing changed (nothing appended). */
  updateId: number | null;
}

/** Options of {@link HistoryManager.getHistory}. */
export interface HistoryOptions {
  /** At most this many entries (newest first). */
  limit?: number;
}

/** The parsed id of `doc`, or null for a plain name (`workspace`, `notes/a.md`). */
function parsedDocId(doc: string): ParsedDocId | null {
  return isDocId(doc) ? parseDocId(doc) : null;
}

function isWorkspaceDocName(doc: string): boolean {
  return doc.startsWith(WORKSPACE_DOC_PREFIX);
}

/**
 * Whether a doc is a workspace doc: by its id (`workspace:…` / `body:…`), else (a plain name
 * such as `workspace`) by its content: a root `files` map and no `body` text.
 */
async function isWorkspaceDoc(storage: CrdtStorage, doc: string): Promise<boolean> {
  if (isWorkspaceDocName(doc)) return true;
  if (doc.startsWith('body:')) return false;
  const state = await storage.loadDoc(doc);
  if (state) {
    const y = new Y.Doc();
    try {
      Y.applyUpdate(y, state);
      if (y.share.has(FILES_MAP_NAME) || y.share.has(BODY_TEXT_NAME))
        return y.share.has(FILES_MAP_NAME) && !y.share.has(BODY_TEXT_NAME);
    } catch {
      /* unreadable: decide by name */
    } finally {
      y.destroy();
    }
  }
  return doc === 'workspace';
}

/** Options of {@link HistoryManager}. */
export interface HistoryManagerOptions {
  /** Default doc id for calls that omit it. */
  doc?: string;
}

/**
 * Version history of documents stored in a {@link CrdtStorage}. Methods take a doc id; when it
 * is omitted, the default doc of the constructor is used, else (for `diff`) the doc that owns
 * the given update ids (ids are unique per storage).
 */
export class HistoryManager {
  private readonly defaultDoc: string | undefined;

  /** Uses `storage` for every read (and for appends in {@link HistoryManager.restoreToVersion}). */
  constructor(
    private readonly storage: CrdtStorage,
    opts: HistoryManagerOptions = {},
  ) {
    this.defaultDoc = opts.doc;
  }

  /**
   * The versions of `doc`, newest first (at most `opts.limit`).
   * `files_changed` is computed by replaying the log on top of the snapshot: paths for the
   * workspace doc, the body's path for a body doc.
   */
  async getHistory(
    doc: string | undefined = this.defaultDoc,
    opts: HistoryOptions = {},
  ): Promise<HistoryEntry[]> {
    if (doc === undefined)
      throw new TypeError('HistoryManager.getHistory: no doc id given and no default doc');
    const updates = await this.storage.getAllUpdates(doc);
    const snapshot = await this.stateBeforeLog(doc, updates.length > 0 ? updates[0].id : null);
    const entries: HistoryEntry[] = [];
    if (await isWorkspaceDoc(this.storage, doc)) {
      const ws = WorkspaceCrdt.fromUpdate(snapshot);
      for (const u of updates)
        entries.push(
          entry(
            u,
            safe(() => changedPaths(ws.applyUpdate(u.data)), []),
          ),
        );
      ws.doc.destroy();
    } else {
      const parsed = parsedDocId(doc);
      const path = parsed?.kind === 'body' ? parsed.path : doc;
      const body = BodyDoc.fromUpdate(doc, snapshot);
      for (const u of updates) {
        const before = body.getBody();
        const fmBefore = JSON.stringify(body.getAllFrontmatter());
        safe(() => body.applyUpdate(u.data), undefined);
        const changed = before !== body.getBody() || fmBefore !== JSON.stringify(body.getAllFrontmatter());
        entries.push(entry(u, changed ? [path] : []));
      }
      body.destroy();
    }
    entries.reverse();
    return opts.limit !== undefined ? entries.slice(0, Math.max(0, opts.limit)) : entries;
  }

  /**
   * What changed between version `fromId` and version `toId` of a doc, per file. For a body doc
   * the single entry is its path (`Added` when it had no content before).
   */
  async diff(doc: string, fromId: number, toId: number): Promise<FileDiff[]>;
  /** {@inheritDoc HistoryManager.(diff:1)} (doc: the default doc, or the one owning the ids) */
  async diff(fromId: number, toId: number): Promise<FileDiff[]>;
  async diff(a1: string | number, a2: number, a3?: number): Promise<FileDiff[]> {
    if (typeof a1 === 'string') return this.diffDoc(a1, a2, a3 as number);
    const doc = this.defaultDoc ?? (await this.docOfUpdate(a2)) ?? (await this.docOfUpdate(a1));
    if (doc === undefined) return [];
    return this.diffDoc(doc, a1, a2);
  }

  private async docOfUpdate(id: number): Promise<string | undefined> {
    for (const doc of await this.storage.listDocs()) {
      if ((await this.storage.getAllUpdates(doc)).some((u) => u.id === id)) return doc;
    }
    return undefined;
  }

  private async diffDoc(doc: string, fromId: number, toId: number): Promise<FileDiff[]> {
    const [a, b] = await Promise.all([
      this.storage.getStateAt(doc, fromId),
      this.storage.getStateAt(doc, toId),
    ]);
    if (await isWorkspaceDoc(this.storage, doc)) {
      const before = WorkspaceCrdt.fromUpdate(a);
      const after = WorkspaceCrdt.fromUpdate(b);
      const out = diffFileMaps(pathMap(before), pathMap(after));
      before.doc.destroy();
      after.doc.destroy();
      return out;
    }
    const parsed = parsedDocId(doc);
    const path = parsed?.kind === 'body' ? parsed.path : doc;
    const before = BodyDoc.fromUpdate(doc, a);
    const after = BodyDoc.fromUpdate(doc, b);
    const same =
      before.getBody() === after.getBody() &&
      JSON.stringify(before.getAllFrontmatter()) === JSON.stringify(after.getAllFrontmatter());
    before.destroy();
    after.destroy();
    if (same) return [];
    // a body doc holds no file metadata: that lives in the workspace doc
    return [{ path, change: a === null ? 'Added' : 'Modified', old: null, new: null }];
  }

  /**
   * The forward update that makes `doc`'s content equal to version `updateId` (files created
   * later become tombstones, bodies get their old text and frontmatter). Nothing is written.
   */
  async computeRestoreUpdate(
    doc: string,
    updateId: number,
  ): Promise<{ update: Uint8Array; changed: boolean }> {
    const [current, target] = await Promise.all([
      this.storage.loadDoc(doc),
      this.storage.getStateAt(doc, updateId),
    ]);
    const kind = (await isWorkspaceDoc(this.storage, doc)) ? 'workspace' : 'body';
    return computeRestoreUpdate(kind, current, target);
  }

  /**
   * Restores `doc` to version `updateId` by appending a forward update (origin `restore` by
   * default); the log keeps every earlier update.
   */
  async restoreToVersion(doc: string, updateId: number, meta: UpdateMeta = {}): Promise<RestoreResult> {
    const { update, changed } = await this.computeRestoreUpdate(doc, updateId);
    if (!changed) return { update, changed, updateId: null };
    const id = await this.storage.appendUpdate(doc, update, { origin: 'restore', ...meta });
    return { update, changed, updateId: id };
  }

  private async stateBeforeLog(doc: string, firstLogId: number | null): Promise<Uint8Array | null> {
    // The snapshot is whatever getStateAt returns for an id just before the first log row.
    if (firstLogId === null) return this.storage.loadDoc(doc);
    return this.storage.getStateAt(doc, firstLogId - 1);
  }
}

/**
 * Builds the forward update turning `current` into a doc whose content equals `target`.
 * `kind` selects workspace semantics (tombstones for later files) or body semantics.
 */
export function computeRestoreUpdate(
  kind: 'workspace' | 'body',
  current: Uint8Array | null,
  target: Uint8Array | null,
): { update: Uint8Array; changed: boolean } {
  const cur = new Y.Doc();
  const old = new Y.Doc();
  try {
    if (current) Y.applyUpdate(cur, current);
    if (target) Y.applyUpdate(old, target);
    const sv = Y.encodeStateVector(cur);
    let changed = false;
    cur.on('update', () => {
      changed = true;
    });
    if (kind === 'workspace') restoreWorkspace(new WorkspaceCrdt(cur), new WorkspaceCrdt(old));
    else restoreBody(new BodyDoc('restore', cur), new BodyDoc('target', old));
    return { update: Y.encodeStateAsUpdate(cur, sv), changed };
  } finally {
    cur.destroy();
    old.destroy();
  }
}

function restoreWorkspace(cur: WorkspaceCrdt, old: WorkspaceCrdt): void {
  const now = Date.now();
  cur.doc.transact(() => {
    for (const raw of [...cur.files.keys()]) {
      const oldJson = old.files.get(raw);
      const curJson = cur.files.get(raw) as string;
      if (oldJson !== undefined) {
        if (oldJson !== curJson) cur.files.set(raw, oldJson);
        continue;
      }
      // Created after the version: becomes a tombstone.
      const meta = cur.getFile(raw);
      if (meta && !meta.deleted) {
        const tomb: FileMetadata = {
          ...meta,
          deleted: true,
          modified_at: Math.max(now, meta.modified_at + 1),
        };
        cur.files.set(raw, serializeFileMetadata(tomb));
      }
    }
    for (const [raw, json] of old.files.entries()) if (!cur.files.has(raw)) cur.files.set(raw, json);
  }, LOCAL_ORIGIN);
}

function restoreBody(cur: BodyDoc, old: BodyDoc): void {
  cur.doc.transact(() => {
    cur.setBody(old.getBody());
    const target = old.getAllFrontmatter();
    for (const key of [...cur.frontmatter.keys()]) if (!(key in target)) cur.frontmatter.delete(key);
    for (const [k, v] of Object.entries(target)) {
      if (JSON.stringify(cur.frontmatter.get(k)) !== JSON.stringify(v)) cur.frontmatter.set(k, v);
    }
  }, LOCAL_ORIGIN);
}

function pathMap(ws: WorkspaceCrdt): Map<string, FileMetadata> {
  return new Map(ws.listFiles({ includeDeleted: true }).map((f) => [f.path, f.metadata]));
}

/** Per-file differences between two path → metadata maps. */
export function diffFileMaps(
  before: ReadonlyMap<string, FileMetadata>,
  after: ReadonlyMap<string, FileMetadata>,
): FileDiff[] {
  const out: FileDiff[] = [];
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const path of paths) {
    const b = before.get(path);
    const a = after.get(path);
    const bLive = b !== undefined && !b.deleted;
    const aLive = a !== undefined && !a.deleted;
    const sides = { old: b ?? null, new: a ?? null };
    if (!bLive && aLive) out.push({ path, change: b === undefined ? 'Added' : 'Restored', ...sides });
    else if (bLive && !aLive) out.push({ path, change: 'Deleted', ...sides });
    else if (bLive && aLive && serializeFileMetadata(b) !== serializeFileMetadata(a))
      out.push({ path, change: 'Modified', ...sides });
  }
  return out;
}

function entry(
  u: {
    id: number;
    timestamp: number;
    origin: string;
    deviceId: string | null;
    deviceName: string | null;
    userId: string | null;
  },
  files: string[],
): HistoryEntry {
  return {
    update_id: u.id,
    timestamp: u.timestamp,
    origin: u.origin,
    device_id: u.deviceId,
    device_name: u.deviceName,
    user: u.userId,
    files_changed: files,
  };
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
