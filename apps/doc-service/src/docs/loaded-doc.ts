/** One document held in memory by its shard owner. */
import { tenantKey } from '@diaryx-sync/bus';
import type { ParsedDocId } from '@diaryx-sync/crdt';
import { takePendingState, type PendingState } from '@diaryx-sync/protocol/server';
import * as Y from 'yjs';
import { DocSync } from './doc-sync';

/** See module doc. */
export class LoadedDoc {
  readonly sync: DocSync;
  /** Last time a message used it (ms). */
  lastUsed = Date.now();
  /**
   * Tail of the output chain: replies, acks, broadcasts and `saved` of this doc are published in
   * the order their messages were handled, each after its own persistence.
   */
  outputs: Promise<void> = Promise.resolve();
  /** Messages whose output has not been published yet. */
  inflight = 0;
  /** Approximate number of rows in the update log (for the compaction threshold). */
  storedUpdates: number;
  /** Connections (`gw|conn`) that sent a frame for this doc. */
  readonly connections = new Set<string>();
  /** Connections that already got `sync_complete` (workspace docs). */
  readonly syncCompleted = new Set<string>();
  /** Set when a persist failed or the shard was lost: the doc must not be used any more. */
  broken = false;
  /**
   * Pending state (structs/deletes Yjs could not integrate) found in the stored state and dropped
   * at load: a loaded doc never carries pending state (docs/limits.md).
   */
  readonly droppedPending: PendingState | undefined;

  constructor(
    readonly tenant: string,
    readonly docId: string,
    readonly parsed: ParsedDocId,
    readonly shard: number,
    /** Fencing token of the shard when the doc was loaded. */
    readonly token: number,
    /**
     * Generation of its workspace when loaded (`UNGUARDED` = none): every append of this doc is
     * guarded by it in the database (docs/workspace-deletion.md).
     */
    readonly generation: string,
    state: Uint8Array | null,
    storedUpdates: number,
    /** Called when a step of the output chain fails (it is logged and counted, never swallowed). */
    private readonly onOutputError: (error: unknown) => void,
  ) {
    const doc = new Y.Doc({ gc: true });
    if (state && state.length > 0) Y.applyUpdate(doc, state);
    this.droppedPending = takePendingState(doc);
    this.sync = new DocSync(doc);
    this.storedUpdates = storedUpdates;
  }

  /** Cache key of a tenant's doc. */
  static key(tenant: string, docId: string): string {
    return tenantKey(tenant, docId);
  }

  get key(): string {
    return LoadedDoc.key(this.tenant, this.docId);
  }

  /**
   * Appends a step to the output chain. Never rejects: a failing step is reported to
   * `onOutputError` and the chain goes on with the next one.
   */
  chain(step: () => Promise<void> | void): Promise<void> {
    this.inflight++;
    const next = this.outputs
      .then(step)
      .catch((error: unknown) => this.onOutputError(error))
      .finally(() => {
        this.inflight--;
      });
    this.outputs = next;
    return next;
  }

  /** Live (non-deleted) files of a workspace doc (`files` map of JSON strings). */
  liveFileCount(): number {
    let n = 0;
    this.sync.doc.getMap<unknown>('files').forEach((value) => {
      try {
        const meta = (typeof value === 'string' ? JSON.parse(value) : value) as { deleted?: unknown } | null;
        if (meta && typeof meta === 'object' && meta.deleted !== true) n++;
      } catch {
        // unparsable entries are not live files
      }
    });
    return n;
  }
}
