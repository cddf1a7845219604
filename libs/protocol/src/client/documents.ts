/**
 * What a {@link SyncSession} needs from the local document model. Implemented over
 * `@diaryx-sync/crdt` by {@link createCrdtSessionDocuments}, and over plain Y.Docs by
 * {@link createYDocSessionDocuments} (tests, lightweight clients).
 */

/** Files that changed in the workspace doc through one update (canonical paths). */
export interface FileChangeSet {
  readonly created: readonly string[];
  readonly deleted: readonly string[];
  readonly restored: readonly string[];
  readonly modified: readonly string[];
  readonly renamed: readonly { readonly from: string; readonly to: string }[];
}

/** A Yjs document the session can sync. */
export interface SessionSyncDoc {
  /** Encoded state vector. */
  getSyncState(): Uint8Array;
  /** Everything the holder of `stateVector` lacks (everything when omitted). */
  encodeStateAsUpdate(stateVector?: Uint8Array): Uint8Array;
}

/** The workspace doc as seen by the session. */
export interface SessionWorkspaceDoc extends SessionSyncDoc {
  /** Applies an update that came from the server (remote origin) and reports what changed. */
  applyRemoteUpdate(update: Uint8Array): FileChangeSet;
  /** Canonical paths of every live (not tombstoned) file. */
  livePaths(): string[];
  /**
   * The body name of every live file (canonical path → name; the body doc id is
   * `body:{ws}/{name}`, docs/protocol.md#doc-ids): the path for a path-keyed entry, the key for a
   * doc-id entry (a UUID key, which a rename or move never changes).
   */
  bodyNames(): Map<string, string>;
  /** The path of the live or tombstoned file whose body is named `name`, when known. */
  pathOfBody(name: string): string | undefined;
}

/** A body doc as seen by the session. */
export interface SessionBodyDoc extends SessionSyncDoc {
  /** Applies an update from the server; `true` when the document changed. */
  applyRemoteUpdate(update: Uint8Array): boolean;
}

/** The body docs, keyed by body name ({@link SessionWorkspaceDoc.bodyNames}). */
export interface SessionBodyStore {
  /** The body doc of `path`, created empty when missing. */
  get(path: string): SessionBodyDoc;
  /** Whether a body doc for `path` is loaded or stored. */
  has(path: string): boolean;
  /** Moves the body doc (and its stored state) from `from` to `to` (path-keyed renames only). */
  rename(from: string, to: string): void;
  /**
   * Frees the loaded body doc of `path` (a persisted state stays stored); the next {@link get}
   * loads it again. Called for a released body (`releaseUnfocusedBodiesAfterMs`).
   */
  release(path: string): void;
}

/** The documents of one workspace. */
export interface SessionDocuments {
  readonly workspace: SessionWorkspaceDoc;
  readonly bodies: SessionBodyStore;
}

/** An empty change set. */
export const NO_CHANGES: FileChangeSet = Object.freeze({
  created: [],
  deleted: [],
  restored: [],
  modified: [],
  renamed: [],
});

/** Whether a change set contains anything. */
export function hasChanges(c: FileChangeSet): boolean {
  return c.created.length + c.deleted.length + c.restored.length + c.modified.length + c.renamed.length > 0;
}
