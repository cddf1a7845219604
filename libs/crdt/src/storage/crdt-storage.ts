/**
 * The `CrdtStorage` contract: snapshot + append-only update log per document.
 */
import type { ShardFence } from './shard-fences';
import type { WorkspaceGuard } from './workspace-guard';

/** Who produced an update (recorded with it in the log). */
export interface UpdateMeta {
  /** Origin tag, e.g. `local`, `remote`, `restore`, `sync2:<conn>`. Default `local`. */
  origin?: string;
  /** Device id of the author, if known. */
  deviceId?: string | null;
  /** Human-readable device name, if known. */
  deviceName?: string | null;
  /** The user (token `sub`) whose connection sent the update, if known. */
  userId?: string | null;
}

/** One row of the update log. */
export interface StoredUpdate {
  /** Monotonically increasing id (unique per storage, not per doc). */
  id: number;
  /** Doc id (`workspace:ws1`, `body:ws1/a.md`). */
  doc: string;
  /** The Yjs update (encoding v1). */
  data: Uint8Array;
  /** When it was appended, ms since epoch. */
  timestamp: number;
  /** Origin tag. */
  origin: string;
  /** Device id or `null`. */
  deviceId: string | null;
  /** Device name or `null`. */
  deviceName: string | null;
  /** User (token `sub`) or `null`. */
  userId: string | null;
}

/** A user who changed docs, from {@link CrdtStorage.getAuthorsSince}. */
export interface UpdateAuthor {
  /** Token `sub`. */
  userId: string;
  /** Device names seen with the user's updates, sorted. */
  deviceNames: string[];
  /** Number of updates. */
  updates: number;
}

/** One entry of {@link CrdtStorage.batchAppendUpdates}. */
export interface UpdateBatchEntry {
  /** Doc id. */
  doc: string;
  /** The Yjs update. */
  data: Uint8Array;
  /** Optional author info. */
  meta?: UpdateMeta;
  /**
   * Shard and fencing token of the writer. `PostgresStorage` inserts the batch only when every
   * fenced entry's token is its shard's current one (else `StaleFenceError`, nothing written)
   * and records both on the row; `MemoryStorage` ignores it. See docs/fencing.md.
   */
  fence?: ShardFence;
  /**
   * Workspace generation the entry is valid for. `PostgresStorage` inserts the batch only while
   * every guarded entry's workspace row exists with that generation (else `WorkspaceGoneError`,
   * nothing written); `MemoryStorage` ignores it. See docs/workspace-deletion.md.
   */
  workspace?: WorkspaceGuard;
}

/**
 * Persistence of Yjs documents: one snapshot per doc plus an append-only update log.
 *
 * Invariant: the full state of a doc is its snapshot merged with every update still in the log
 * (updates are idempotent, so overlaps are harmless). Compaction folds log rows into the snapshot.
 */
export interface CrdtStorage {
  /** Full state as ONE Yjs update (snapshot merged with later updates), or `null` if unknown. */
  loadDoc(doc: string): Promise<Uint8Array | null>;
  /**
   * Replaces the snapshot with `state` (a full-state update). Log rows are kept; the snapshot
   * is marked as covering every update appended so far.
   */
  saveDoc(doc: string, state: Uint8Array): Promise<void>;
  /** Deletes the snapshot and every update of the doc. */
  deleteDoc(doc: string): Promise<void>;
  /** Docs that have a snapshot or updates, sorted; only those starting with `prefix` if given. */
  listDocs(prefix?: string): Promise<string[]>;
  /** Appends one update; returns its id. */
  appendUpdate(doc: string, data: Uint8Array, meta?: UpdateMeta): Promise<number>;
  /**
   * Appends several updates atomically (all or none); returns their ids in input order.
   *
   * @throws StaleFenceError (PostgreSQL) when a fenced entry's token is no longer current.
   */
  batchAppendUpdates(entries: UpdateBatchEntry[]): Promise<number[]>;
  /** Updates of the doc with id > `sinceId`, oldest first. */
  getUpdatesSince(doc: string, sinceId: number): Promise<StoredUpdate[]>;
  /** Every update still in the log for the doc, oldest first. */
  getAllUpdates(doc: string): Promise<StoredUpdate[]>;
  /**
   * State of the doc as of update `updateId`: the snapshot plus the updates with id ≤ `updateId`,
   * as one Yjs update. For an id older than the last compaction, the compacted snapshot (the
   * earliest state still known) is returned. `null` when the doc has no state at that point.
   */
  getStateAt(doc: string, updateId: number): Promise<Uint8Array | null>;
  /**
   * Folds every update except the newest `keepUpdates` into the snapshot, in one transaction.
   * `keepUpdates = 0` keeps none. With `throughId`, only updates with an id ≤ `throughId` are
   * folded (e.g. what a git commit captured, docs/protocol.md#compaction-after-commit). Never loses state.
   */
  compact(doc: string, keepUpdates: number, throughId?: number): Promise<void>;
  /** Highest update id of the doc (including folded ones), `0` if none. */
  getLatestUpdateId(doc: string): Promise<number>;
  /**
   * The id of the last update folded into the doc's snapshot by compaction, 0 when none was:
   * update-level history starts after it (docs/protocol.md#compaction-after-commit).
   */
  getCompactedThrough(doc: string): Promise<number>;
  /**
   * Users whose updates to `docs` were appended after `sinceMs` (ms since epoch), most updates
   * first (updates without a user are left out). Compacted updates are no longer counted.
   */
  getAuthorsSince(docs: readonly string[], sinceMs: number): Promise<UpdateAuthor[]>;
  /** Number of updates in the log not yet folded into the snapshot. */
  getUpdateCount(doc: string): Promise<number>;
  /**
   * Moves snapshot and updates from `from` to `to` in one transaction; the destination is
   * overwritten. A missing source is a no-op.
   */
  renameDoc(from: string, to: string): Promise<void>;
  /** Deletes every log row of the doc (the snapshot stays). */
  clearUpdates(doc: string): Promise<void>;
  /**
   * Deletes the given log rows of the doc (ids of other docs are ignored); the snapshot and the
   * other rows stay. Used by the rebuild of an unreadable doc (docs/self-healing.md).
   */
  dropUpdates(doc: string, ids: readonly number[]): Promise<void>;
  /**
   * Optional synchronous {@link CrdtStorage.loadDoc}, offered by storages that live in process
   * memory (`MemoryStorage`). A storage that offers it must also apply `appendUpdate` and
   * `renameDoc` synchronously when they are called; `BodyDocManager` then loads docs inside
   * `getOrCreate` (no await needed).
   */
  loadDocSync?(doc: string): Uint8Array | null;
}

/**
 * Checks the argument of {@link CrdtStorage.batchAppendUpdates} (untyped callers).
 *
 * @throws TypeError when it is not an array.
 */
export function checkEntries(entries: UpdateBatchEntry[]): void {
  if (!Array.isArray(entries)) throw new TypeError('batchAppendUpdates expects an array of entries');
}
