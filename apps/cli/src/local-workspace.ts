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
  type FileMetadata,
  type MarkdownFile,
} from '@diaryx-sync/crdt';
import {
  bodyDocId,
  createCrdtSessionDocuments,
  workspaceDocId,
  type SessionDocuments,
} from '@diaryx-sync/protocol';
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
 * The in-memory CRDT copy of a workspace used by the CLI: a path-mode {@link WorkspaceCrdt} and
 * a {@link BodyDocManager}, turned into markdown and back with the `@diaryx-sync/crdt` format.
 * Local edits are applied as minimal CRDT changes and forwarded to a {@link LocalUpdateSink}.
 */
export class LocalWorkspace {
  readonly workspace = new WorkspaceCrdt();
  readonly bodies = new BodyDocManager();
  readonly documents: SessionDocuments;
  private sink: LocalUpdateSink | undefined;

  constructor(readonly workspaceId: string) {
    const docs = createCrdtSessionDocuments(this.workspace, this.bodies);
    // Entries written by other clients may have paths whose body doc id exceeds 255 bytes: the
    // session must never try to open those (bodyDocId throws, which would crash the process).
    this.documents = {
      ...docs,
      workspace: {
        ...docs.workspace,
        livePaths: () =>
          docs.workspace.livePaths().filter((p) => bodyDocIdProblem(workspaceId, p) === undefined),
      },
    };
    this.workspace.onUpdate((update, info) => {
      if (info.local) this.sink?.(workspaceDocId(this.workspaceId), update);
    });
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
    const doc = this.bodies.getOrCreate(path);
    doc.setSyncCallback((name, update) => this.sink?.(bodyDocId(this.workspaceId, name), update));
    return doc;
  }

  /** Body text of a file ('' when it has no body doc). */
  bodyText(path: string): string {
    return this.bodies.get(path)?.getBody() ?? '';
  }

  /** Full state of the body doc of `path` (an empty doc's state when it has none). */
  bodyState(path: string): Uint8Array {
    return this.bodies.get(path)?.encodeStateAsUpdate() ?? EMPTY_BODY_STATE;
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
    return materializeWorkspace(this.workspace, (p) => this.bodies.get(p)?.getBody()).filter(
      (f) => bodyDocIdProblem(this.workspaceId, f.path) === undefined,
    );
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
    this.workspace.doc.transact(() => {
      for (const [path, meta] of parsed.files) {
        const current = this.workspace.getFile(path);
        const body = parsed.bodies.get(path) ?? '';
        const live = current !== undefined && !current.deleted;
        const metaChanged = !live || !sameMetadata(current, meta);
        const bodyChanged = this.bodyText(path) !== body;
        if (metaChanged) {
          // A new file keeps its frontmatter `updated` (so push → pull is byte-exact); only a
          // file without one is stamped `now`.
          const stampNow = !live && !(meta.modified_at > 0);
          const modified = Math.max(
            meta.modified_at ?? 0,
            (current?.modified_at ?? 0) + 1,
            stampNow ? now : 0,
          );
          this.workspace.setFile(path, { ...meta, deleted: false, modified_at: modified });
        }
        if (bodyChanged || !this.bodies.hasDoc(path)) this.body(path).setBody(body);
        if (!live) summary.created.push(path);
        else if (metaChanged || bodyChanged) summary.updated.push(path);
        else (summary as { unchanged: number }).unchanged++;
      }
      if (opts.deleteMissing === true) {
        for (const path of this.livePaths()) {
          if (!parsed.files.has(path) && this.workspace.deleteFile(path)) summary.deleted.push(path);
        }
      }
    });
    return summary;
  }

  /** Tombstones a file; false when it was not live. */
  deleteFile(path: string): boolean {
    const current = this.workspace.getFile(path);
    if (current === undefined || current.deleted) return false;
    return this.workspace.deleteFile(path);
  }

  /**
   * A local rename: the workspace entry moves (tombstone + new key, same metadata) and the body
   * doc moves with its history, so other clients keep one body stream. The body's full state is
   * sent under the new id.
   */
  renameFile(from: string, to: string): boolean {
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
}
