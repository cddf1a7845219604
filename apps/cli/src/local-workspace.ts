import * as Y from 'yjs';
import {
  BODY_TEXT_NAME,
  BodyDocManager,
  InvalidPathError,
  LOCAL_ORIGIN,
  WorkspaceCrdt,
  materializeWorkspace,
  parseMarkdownFiles,
  safePath,
  serializeFileMetadata,
  windowsPathProblem,
  isDocIdKey,
  bodyDocId,
  workspaceDocId,
  type FileMetadata,
  type MarkdownFile,
} from '@diaryx-sync/crdt';
import { createCrdtSessionDocuments, type SessionDocuments } from '@diaryx-sync/protocol/node';
import { docIdMetadata, pathMetadata, pinnedFilename, type KeyForm } from './key-form';
import { mergeLocalMetadata } from './metadata-merge';
import { mergeLocalText } from './text-merge';

/** What {@link LocalWorkspace.importFiles} changed. */
export interface ImportSummary {
  readonly created: string[];
  readonly updated: string[];
  readonly deleted: string[];
  readonly unchanged: number;
  /** Files that could not be parsed cleanly (taken as body only) or had invalid paths. */
  readonly problems: { path: string; message: string }[];
}

/**
 * What was last synchronized between a file on disk and the CRDT: the common ancestor of a
 * three-way merge (see {@link LocalWorkspace.mergeLocalEdit}).
 */
export interface FileBase {
  /** The file's full text (frontmatter + body) as it was on disk. */
  readonly content: string;
  /** A full state of the file's body doc whose text is exactly the body of `content`. */
  readonly bodyState: Uint8Array;
}

/** What {@link LocalWorkspace.mergeLocalEdit} did. */
export interface LocalMergeResult {
  /** Whether the workspace or the body doc changed. */
  readonly changed: boolean;
  /** The new base: `content` as merged (undefined when the file could not be imported). */
  readonly base: FileBase | undefined;
  /** Why the file could not be imported (invalid path, too long a doc id, bad frontmatter). */
  readonly problem?: string;
}

/** The state of an empty body doc (the base of a file that has none). */
const EMPTY_BODY_STATE = Y.encodeStateAsUpdate(new Y.Doc());

/** Sends a local Yjs update for a doc id. */
export type LocalUpdateSink = (docId: string, update: Uint8Array) => void;

/**
 * Why this client cannot sync `path` of `workspaceId`, if it cannot: an unsafe name (the rules of
 * `safePath`, docs/protocol.md#paths: not NFC, bidi control characters, Windows reserved names,
 * over-long names), a name this OS cannot hold (on Windows: `<>:"|?*`, a trailing dot or space),
 * or a body doc id over 255 bytes. The server refuses such body doc ids (close 4400), so they are
 * skipped with a message instead: never opened, pushed or written to disk.
 */
export function syncPathProblem(
  workspaceId: string,
  path: string,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  try {
    const safe = safePath(path);
    if (safe !== path) return `unsafe name: not in Unicode NFC (rename it to ${JSON.stringify(safe)})`;
  } catch (err) {
    return `unsafe name: ${err instanceof InvalidPathError ? err.reason : String(err)}`;
  }
  if (platform === 'win32') {
    const problem = windowsPathProblem(path);
    if (problem !== undefined) return `name not allowed on Windows: ${problem}`;
  }
  try {
    bodyDocId(workspaceId, path);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const bodyDocIdProblem = (workspaceId: string, path: string) => syncPathProblem(workspaceId, path);

function sameMetadata(a: FileMetadata, b: FileMetadata): boolean {
  return serializeFileMetadata({ ...a, modified_at: 0 }) === serializeFileMetadata({ ...b, modified_at: 0 });
}

/**
 * The in-memory CRDT copy of a workspace used by the CLI: a {@link WorkspaceCrdt} and a
 * {@link BodyDocManager} keyed by body name, turned into markdown and back with the
 * `@diaryx-sync/crdt` format. Local edits are applied as minimal CRDT changes and forwarded to a
 * {@link LocalUpdateSink}. Both key forms are handled (apps/cli/README.md, "Key forms"): every
 * method takes paths; in doc-id form they are resolved to UUID keys, new files get new keys and
 * bodies are named by key.
 */
export class LocalWorkspace {
  readonly workspace = new WorkspaceCrdt();
  readonly bodies = new BodyDocManager();
  readonly documents: SessionDocuments;
  private sink: LocalUpdateSink | undefined;
  /** Path → key of every entry (live entries win over tombstones); rebuilt after each update. */
  private keyIndex: Map<string, string> | undefined;
  /** {@link keyForm}, cached until the next update. */
  private form: KeyForm | undefined;

  /**
   * @param newWorkspaceForm the key form used when the workspace holds no entry at all (a new
   *   workspace; `--doc-ids`); otherwise the workspace's own form is kept ({@link keyForm}).
   */
  constructor(
    readonly workspaceId: string,
    private readonly newWorkspaceForm: KeyForm = 'path',
  ) {
    const docs = createCrdtSessionDocuments(this.workspace, this.bodies);
    // Entries written by other clients may have paths whose body doc id exceeds 255 bytes: the
    // session must never try to open those (bodyDocId throws, which would crash the process).
    this.documents = {
      ...docs,
      workspace: {
        ...docs.workspace,
        livePaths: () =>
          docs.workspace.livePaths().filter((p) => bodyDocIdProblem(workspaceId, p) === undefined),
        bodyNames: () =>
          new Map(
            [...docs.workspace.bodyNames()].filter(([p]) => bodyDocIdProblem(workspaceId, p) === undefined),
          ),
      },
    };
    this.workspace.onUpdate((update, info) => {
      this.keyIndex = undefined;
      this.form = undefined;
      if (info.local) this.sink?.(workspaceDocId(this.workspaceId), update);
    });
  }

  /**
   * The key form of the workspace: `doc-id` as soon as one key is a UUID, `path` when every key
   * is a path; a workspace without any entry takes the form given to the constructor.
   */
  keyForm(): KeyForm {
    if (this.form !== undefined) return this.form;
    let form: KeyForm = this.workspace.files.size === 0 ? this.newWorkspaceForm : 'path';
    for (const key of this.workspace.files.keys()) {
      if (!isDocIdKey(key)) continue;
      form = 'doc-id';
      break;
    }
    this.form = form;
    return form;
  }

  /** A copy of the path → key index (live entries win over tombstones of the same path). */
  private keysByPath(): Map<string, string> {
    if (this.keyIndex === undefined) {
      const index = new Map<string, string>();
      for (const f of this.workspace.listFiles({ includeDeleted: true }))
        if (!index.has(f.path) || !f.metadata.deleted) index.set(f.path, f.key);
      this.keyIndex = index;
    }
    return new Map(this.keyIndex);
  }

  /** The key of the file at `path` (its path in path form), when there is an entry. */
  keyOf(path: string): string | undefined {
    if (this.keyForm() === 'path') return this.workspace.getFile(path) === undefined ? undefined : path;
    if (this.keyIndex === undefined) this.keysByPath();
    return this.keyIndex?.get(path);
  }

  /** The body doc name of `path`: its UUID key for a doc-id entry, else the path. */
  bodyName(path: string): string {
    if (this.keyForm() === 'path') return path;
    const key = this.keyOf(path);
    return key !== undefined && isDocIdKey(key) ? key : path;
  }

  /** Metadata of the file at `path` (also tombstoned), whatever the key form. */
  getFile(path: string): FileMetadata | undefined {
    if (this.keyForm() === 'path') return this.workspace.getFile(path);
    const key = this.keyOf(path);
    return key === undefined ? undefined : this.workspace.getFile(key);
  }

  /** Where local updates go from now on (the sync client). */
  forwardTo(sink: LocalUpdateSink): void {
    this.sink = sink;
  }

  /** Live paths, sorted. */
  livePaths(): string[] {
    return this.workspace.listFiles().map((f) => f.path);
  }

  /** The body doc of `path`, with local updates forwarded. */
  private body(path: string) {
    return this.bodyDoc(this.bodyName(path));
  }

  /** The body doc named `name` ({@link bodyName}), with local updates forwarded. */
  private bodyDoc(name: string) {
    const doc = this.bodies.getOrCreate(name);
    doc.setSyncCallback((docName, update) => this.sink?.(bodyDocId(this.workspaceId, docName), update));
    return doc;
  }

  /** Body text of a file ('' when it has no body doc). */
  bodyText(path: string): string {
    return this.bodies.get(this.bodyName(path))?.getBody() ?? '';
  }

  /** Full state of the body doc of `path` (an empty doc's state when it has none). */
  bodyState(path: string): Uint8Array {
    return this.bodies.get(this.bodyName(path))?.encodeStateAsUpdate() ?? EMPTY_BODY_STATE;
  }

  /**
   * The base of a file whose disk text is `content` and whose body equals the body doc now
   * (call it right when both are known to match: after writing or importing the file).
   */
  captureBase(path: string, content: string): FileBase {
    return { content, bodyState: this.bodyState(path) };
  }

  /**
   * Three-way merge of a local edit: the file at `path` was `base.content` (last synchronized)
   * and is `content` now on disk. The body edit base → local is applied as minimal CRDT
   * operations onto the CURRENT body doc (which may already hold remote edits), and the
   * frontmatter fields the local side changed are set on the current metadata (field-level last
   * writer wins; fields it did not touch keep their remote values). A tombstoned entry is
   * restored (the file exists locally). Without a base (a file the CRDT never synchronized with
   * disk) the base is empty: nothing on either side is dropped.
   */
  mergeLocalEdit(
    path: string,
    base: FileBase | undefined,
    content: string,
    now = Date.now(),
  ): LocalMergeResult {
    const local = parseMarkdownFiles([{ path, content }]);
    const localMeta = local.files.get(path);
    const idProblem = bodyDocIdProblem(this.workspaceId, path);
    if (localMeta === undefined || idProblem !== undefined) {
      return {
        changed: false,
        base: undefined,
        problem: idProblem ?? local.problems[0]?.message ?? 'invalid path',
      };
    }
    const baseParsed = parseMarkdownFiles([{ path, content: base?.content ?? '' }]);
    const baseMeta = baseParsed.files.get(path) ?? localMeta;
    const changed =
      this.keyForm() === 'doc-id'
        ? this.mergeDocIdMetadata(path, baseMeta, localMeta, now)
        : this.mergePathMetadata(path, baseMeta, localMeta, now);
    const body = this.body(path);
    const text = mergeLocalText(
      body.doc,
      BODY_TEXT_NAME,
      base?.bodyState ?? EMPTY_BODY_STATE,
      local.bodies.get(path) ?? '',
      LOCAL_ORIGIN,
    );
    return {
      changed: changed || text.changed,
      base: { content, bodyState: text.baseState },
      ...(local.problems.length > 0 ? { problem: local.problems[0]?.message } : {}),
    };
  }

  /**
   * Every live file as markdown (exactly the `@diaryx-sync/crdt` format), without the files this
   * client cannot sync ({@link unsyncableFiles}).
   */
  materialize(): MarkdownFile[] {
    return materializeWorkspace(this.workspace, (p, key) =>
      this.bodies.get(isDocIdKey(key) ? key : p)?.getBody(),
    ).filter((f) => bodyDocIdProblem(this.workspaceId, f.path) === undefined);
  }

  /** Live files skipped because this client cannot sync their paths, and why ({@link syncPathProblem}). */
  unsyncableFiles(): { path: string; problem: string }[] {
    const out: { path: string; problem: string }[] = [];
    for (const path of this.livePaths()) {
      const problem = bodyDocIdProblem(this.workspaceId, path);
      if (problem !== undefined) out.push({ path, problem });
    }
    return out;
  }

  /**
   * Applies markdown files as minimal CRDT changes: metadata only where it differs (ignoring
   * `modified_at`), bodies through a minimal splice. With `deleteMissing`, live files absent from
   * `files` are tombstoned. `only` limits the deletion check to these paths (watcher events).
   */
  importFiles(
    files: readonly MarkdownFile[],
    opts: { deleteMissing?: boolean; now?: number } = {},
  ): ImportSummary {
    const parsed = parseMarkdownFiles(files);
    // A path whose body doc id the protocol rejects (over 255 bytes) cannot be synced: report it
    // like an invalid path instead of creating an entry that no client could ever open.
    for (const path of [...parsed.files.keys()]) {
      const problem = bodyDocIdProblem(this.workspaceId, path);
      if (problem === undefined) continue;
      parsed.files.delete(path);
      parsed.bodies.delete(path);
      parsed.problems.push({ path, message: problem });
    }
    const summary: ImportSummary = {
      created: [],
      updated: [],
      deleted: [],
      unchanged: 0,
      problems: parsed.problems,
    };
    const now = opts.now ?? Date.now();
    if (this.keyForm() === 'doc-id') {
      this.importDocIdFiles(parsed, summary, now, opts.deleteMissing === true);
      return summary;
    }
    this.workspace.doc.transact(() => {
      for (const [path, meta] of parsed.files) {
        const entry = { path, key: path, name: path, current: this.workspace.getFile(path), next: meta };
        this.importEntry(entry, parsed.bodies.get(path) ?? '', summary, now);
      }
      if (opts.deleteMissing === true) {
        for (const path of this.livePaths()) {
          if (!parsed.files.has(path) && this.workspace.deleteFile(path)) summary.deleted.push(path);
        }
      }
    });
    return summary;
  }

  /**
   * Writes one imported file into the entry `key` (body doc `name`) as minimal changes: metadata
   * only where it differs (ignoring `modified_at`), the body by one splice; records the outcome.
   */
  private importEntry(
    entry: { path: string; key: string; name: string; current: FileMetadata | undefined; next: FileMetadata },
    body: string,
    summary: ImportSummary,
    now: number,
  ): void {
    const { path, key, name, current, next } = entry;
    const live = current !== undefined && !current.deleted;
    const metaChanged = !live || !sameMetadata(current, next);
    const bodyChanged = (this.bodies.get(name)?.getBody() ?? '') !== body;
    if (metaChanged) {
      // A new file keeps its frontmatter `updated` (so push → pull is byte-exact); only a file
      // without one is stamped `now`.
      const stampNow = !live && !(next.modified_at > 0);
      const modified = Math.max(next.modified_at ?? 0, (current?.modified_at ?? 0) + 1, stampNow ? now : 0);
      this.workspace.setFile(key, { ...next, deleted: false, modified_at: modified });
    }
    if (bodyChanged || !this.bodies.hasDoc(name)) this.bodyDoc(name).setBody(body);
    if (!live) summary.created.push(path);
    else if (metaChanged || bodyChanged) summary.updated.push(path);
    else (summary as { unchanged: number }).unchanged++;
  }

  /**
   * Doc-id form of {@link importFiles}: files at unknown paths get new UUID keys (`createFile`),
   * links (`part_of`, `contents`) become keys and `filename` is relative to the parent
   * ({@link docIdMetadata}); bodies are named by key.
   */
  private importDocIdFiles(
    parsed: ReturnType<typeof parseMarkdownFiles>,
    summary: ImportSummary,
    now: number,
    deleteMissing: boolean,
  ): void {
    const keys = this.keysByPath();
    this.workspace.doc.transact(() => {
      const created = new Set<string>();
      // Keys first, so links between new files (a new index and its children) resolve.
      for (const path of parsed.files.keys()) {
        if (keys.has(path)) continue;
        const id = this.workspace.createFile({ filename: `/${path}` });
        keys.set(path, id);
        created.add(id);
      }
      for (const [path, meta] of parsed.files) {
        const key = keys.get(path) as string;
        const current = created.has(key) ? undefined : this.workspace.getFile(key);
        const entry = {
          path,
          key,
          name: isDocIdKey(key) ? key : path,
          current,
          next: docIdMetadata(path, meta, keys),
        };
        this.importEntry(entry, parsed.bodies.get(path) ?? '', summary, now);
      }
      if (deleteMissing) {
        for (const f of this.workspace.listFiles()) {
          if (!parsed.files.has(f.path) && !created.has(f.key) && this.workspace.deleteFile(f.key))
            summary.deleted.push(f.path);
        }
      }
    });
  }

  /** Path form of the metadata half of {@link mergeLocalEdit}; true when the workspace changed. */
  private mergePathMetadata(
    path: string,
    baseMeta: FileMetadata,
    localMeta: FileMetadata,
    now: number,
  ): boolean {
    let changed = false;
    this.workspace.doc.transact(() => {
      const current = this.workspace.getFile(path);
      if (current === undefined) {
        this.workspace.setFile(path, {
          ...localMeta,
          deleted: false,
          modified_at: localMeta.modified_at > 0 ? localMeta.modified_at : now,
        });
        changed = true;
        return;
      }
      const merged = mergeLocalMetadata(baseMeta, localMeta, current) ?? current;
      const same = sameMetadata(merged, current) && merged.modified_at === current.modified_at;
      if (same && !current.deleted) return;
      this.workspace.setFile(path, {
        ...merged,
        deleted: false,
        modified_at: Math.max(merged.modified_at, current.modified_at + 1),
      });
      changed = true;
    });
    return changed;
  }

  /**
   * Doc-id form of the metadata half of {@link mergeLocalEdit}: the merge runs on path-form
   * metadata ({@link pathMetadata}) and the result is written back with keys; a file at an
   * unknown path gets a new UUID key.
   */
  private mergeDocIdMetadata(path: string, base: FileMetadata, local: FileMetadata, now: number): boolean {
    const keys = this.keysByPath();
    let changed = false;
    this.workspace.doc.transact(() => {
      const key = keys.get(path);
      const current = key === undefined ? undefined : this.workspace.getFile(key);
      if (key === undefined || current === undefined) {
        const id = this.workspace.createFile({ filename: `/${path}` });
        keys.set(path, id);
        this.workspace.setFile(id, {
          ...docIdMetadata(path, local, keys),
          deleted: false,
          modified_at: local.modified_at > 0 ? local.modified_at : now,
        });
        changed = true;
        return;
      }
      const currentAsPaths = pathMetadata(path, current, (k) => this.workspace.getPath(k));
      const merged = mergeLocalMetadata(base, local, currentAsPaths);
      const next = merged === undefined ? current : docIdMetadata(path, merged, keys);
      const same = sameMetadata(next, current) && next.modified_at === current.modified_at;
      if (same && !current.deleted) return;
      this.workspace.setFile(key, {
        ...next,
        deleted: false,
        modified_at: Math.max(next.modified_at, current.modified_at + 1),
      });
      changed = true;
    });
    return changed;
  }

  /** Tombstones a file; false when it was not live. */
  deleteFile(path: string): boolean {
    const key = this.keyOf(path);
    const current = key === undefined ? undefined : this.workspace.getFile(key);
    if (key === undefined || current === undefined || current.deleted) return false;
    return this.workspace.deleteFile(key);
  }

  /**
   * A local rename: the workspace entry moves (tombstone + new key, same metadata) and the body
   * doc moves with its history, so other clients keep one body stream. The body's full state is
   * sent under the new id.
   */
  renameFile(from: string, to: string): boolean {
    if (this.keyForm() === 'doc-id') return this.renameDocIdFile(from, to);
    const current = this.workspace.getFile(from);
    if (current === undefined || current.deleted || this.workspace.getFile(to)?.deleted === false)
      return false;
    if (bodyDocIdProblem(this.workspaceId, to) !== undefined) return false;
    const filename = to.split('/').pop() ?? to;
    this.workspace.doc.transact(() => {
      this.workspace.setFile(to, { ...current, filename, modified_at: Date.now() });
      this.workspace.deleteFile(from);
    });
    void this.bodies.renameDoc(from, to);
    const doc = this.body(to);
    this.sink?.(bodyDocId(this.workspaceId, to), doc.encodeStateAsUpdate());
    return true;
  }

  /**
   * Doc-id form of {@link renameFile}: a rename or move is a `filename` update of the same key
   * (relative to the file's `part_of` parent, which the frontmatter owns); the body doc keeps its
   * name, so nothing moves. Files whose paths derive from this one (the children of a renamed
   * index) are pinned to the paths they have on disk: each is moved by its own disk event.
   */
  private renameDocIdFile(from: string, to: string): boolean {
    const keys = this.keysByPath();
    const key = keys.get(from);
    const current = key === undefined ? undefined : this.workspace.getFile(key);
    if (key === undefined || current === undefined || current.deleted) return false;
    if (this.getFile(to)?.deleted === false) return false;
    if (bodyDocIdProblem(this.workspaceId, to) !== undefined) return false;
    const pathOf = (k: string) => this.workspace.getPath(k);
    const before = new Map(this.workspace.listFiles().map((f) => [f.key, f.path] as const));
    this.workspace.doc.transact(() => {
      this.workspace.setFile(key, {
        ...current,
        filename: pinnedFilename(to, current.part_of, pathOf),
        modified_at: Math.max(Date.now(), current.modified_at + 1),
      });
      // Pin the others, parents before children (a pinned parent fixes its subtree).
      for (let pass = 0; pass < 32; pass++) {
        const moved = this.workspace
          .listFiles()
          .filter((f) => f.key !== key && before.has(f.key) && before.get(f.key) !== f.path);
        if (moved.length === 0) break;
        for (const f of moved) {
          const old = before.get(f.key) as string;
          // The last pass pins from the root (`/path` does not depend on any parent).
          const filename = pass < 31 ? pinnedFilename(old, f.metadata.part_of, pathOf) : `/${old}`;
          this.workspace.setFile(f.key, { ...f.metadata, filename });
        }
      }
    });
    return true;
  }
}
