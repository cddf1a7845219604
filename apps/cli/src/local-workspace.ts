import {
  BodyDocManager,
  WorkspaceCrdt,
  materializeWorkspace,
  parseMarkdownFiles,
  serializeFileMetadata,
  type FileMetadata,
  type MarkdownFile,
} from '@diaryx-sync/crdt';
import {
  bodyDocId,
  createCrdtSessionDocuments,
  workspaceDocId,
  type SessionDocuments,
} from '@diaryx-sync/protocol';

/** What {@link LocalWorkspace.importFiles} changed. */
export interface ImportSummary {
  readonly created: string[];
  readonly updated: string[];
  readonly deleted: string[];
  readonly unchanged: number;
  /** Files that could not be parsed cleanly (taken as body only) or had invalid paths. */
  readonly problems: { path: string; message: string }[];
}

/** Sends a local Yjs update for a doc id. */
export type LocalUpdateSink = (docId: string, update: Uint8Array) => void;

/** Why `path` cannot have a body doc in `workspaceId` (e.g. the doc id is too long), if it cannot. */
function bodyDocIdProblem(workspaceId: string, path: string): string | undefined {
  try {
    bodyDocId(workspaceId, path);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

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

  /** Every live file as markdown (exactly the `@diaryx-sync/crdt` format). */
  materialize(): MarkdownFile[] {
    return materializeWorkspace(this.workspace, (p) => this.bodies.get(p)?.getBody());
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
    this.sink?.(bodyDocId(this.workspaceId, to), doc.encodeState());
    return true;
  }
}
