/**
 * Server-side sync of one loaded document: a thin adapter over `DocSyncHandler` from
 * `@diaryx-sync/protocol` (the one implementation of docs/protocol.md#server-behaviour-per-document), shaped for the bus: every outgoing message is ONE y-protocols message (so each
 * `broadcast` envelope can be forwarded verbatim to stock y-websocket clients), protocol errors
 * become {@link BadPayloadError}, and the result says whether the payload started a sync
 * exchange (for `sync_complete`).
 *
 * Payloads hold Sync and Awareness messages, and from `/yjs` connections also QueryAwareness
 * (answered with the current awareness states; the gateway's `/sync2` decoder never lets it
 * through). Client Auth messages are dropped by the gateway, which also answers a
 * `readOnlyViolation` itself (the `read_only` error or the permission-denied Auth message).
 */
import { ProtocolError, splitMessages, type ProtocolErrorKind, type Role } from '@diaryx-sync/protocol';
import { DocSyncHandler, type PendingState } from '@diaryx-sync/protocol/server';
import type * as Y from 'yjs';

/** The connection a payload comes from. */
export interface SyncConnection {
  /** Unique across the cluster: `${gatewayId}|${connId}`. */
  id: string;
  role: Role;
}

/** What to do after handling a payload. */
export interface SyncResult {
  /** Messages for the sending connection only, in order (one y-protocols message each). */
  replies: Uint8Array[];
  /** Messages for every other subscriber of the doc (one y-protocols message each). */
  broadcast: Uint8Array[];
  /** Effective document changes to persist (Yjs updates, v1). */
  persist: Uint8Array[];
  /** A viewer tried to change the document (nothing was applied). */
  readOnlyViolation: boolean;
  /** The payload contained a SyncStep1 (the client started a sync exchange). */
  sawSyncStep1: boolean;
  /** The doc holds Yjs pending state: do not acknowledge the frame (docs/limits.md). */
  pending: boolean;
  /** Pending state dropped while handling the payload (alert). */
  droppedPending?: PendingState;
  /**
   * Rare: an update failed half-way through being applied. Deliver and persist the fields
   * above (they match memory), then report this error (the gateway closes with 4400).
   */
  error?: BadPayloadError;
}

/** The payload is malformed (bad message, bad update, bad state vector): close with 4400. */
export class BadPayloadError extends Error {
  override readonly name = 'BadPayloadError';

  constructor(
    message: string,
    /** Why (`missing_dependencies`: an update that can never apply as sent, see docs/limits.md). */
    readonly kind: ProtocolErrorKind = 'bad_update',
  ) {
    super(message);
  }
}

/** One document held by a shard owner, with its awareness registry. */
export class DocSync {
  private readonly handler: DocSyncHandler;

  constructor(readonly doc: Y.Doc) {
    this.handler = new DocSyncHandler(doc);
  }

  /**
   * Handles one payload from `conn`.
   * @throws {BadPayloadError} for malformed input (nothing is applied then).
   */
  handle(conn: SyncConnection, payload: Uint8Array): SyncResult {
    let r;
    try {
      // the `yjs` dialect admits QueryAwareness (needed by /yjs clients)
      r = this.handler.handle({ id: conn.id, role: conn.role, dialect: 'yjs' }, payload);
    } catch (err) {
      if (err instanceof ProtocolError) throw new BadPayloadError(err.message, err.kind);
      throw err;
    }
    // the gateway answers a read-only violation itself (JSON on /sync2, Auth on /yjs)
    return {
      replies: r.replies,
      broadcast: r.broadcast ? splitMessages(r.broadcast) : [],
      persist: r.persist ? [r.persist] : [],
      readOnlyViolation: r.readOnlyViolation,
      // only a SyncStep1 is answered with a SyncStep2 (0 1 …), followed by the server SyncStep1
      sawSyncStep1: r.sawSyncStep1,
      pending: r.pending,
      ...(r.droppedPending ? { droppedPending: r.droppedPending } : {}),
      ...(r.error ? { error: new BadPayloadError(r.error.message, r.error.kind) } : {}),
    };
  }

  /**
   * Applies a server-side update (ClusterClient `apply`); returns the effective changes, and
   * `error` when part of it could not be applied (persist and broadcast what did change first).
   * @throws {BadPayloadError} when the update is malformed (nothing applied).
   */
  applyServerUpdate(update: Uint8Array): {
    persist: Uint8Array[];
    broadcast: Uint8Array[];
    error?: BadPayloadError;
    pending: boolean;
    droppedPending?: PendingState;
  } {
    let r;
    try {
      r = this.handler.applyServerUpdate(update, 'server');
    } catch (err) {
      if (err instanceof ProtocolError) throw new BadPayloadError(err.message, err.kind);
      throw err;
    }
    return {
      persist: r.persist ? [r.persist] : [],
      broadcast: r.broadcast ? [r.broadcast] : [],
      pending: r.pending,
      ...(r.droppedPending ? { droppedPending: r.droppedPending } : {}),
      ...(r.error ? { error: new BadPayloadError(r.error.message, r.error.kind) } : {}),
    };
  }

  /**
   * Removes a connection: its awareness states are dropped; returns the awareness message to
   * broadcast to the others, or `null` when it had none.
   */
  removeConnection(connKey: string): Uint8Array | null {
    return this.handler.connectionLeft(connKey) ?? null;
  }

  /** An awareness message with every current state (for a newly subscribed connection), or `null`. */
  awarenessSnapshot(): Uint8Array | null {
    return this.handler.awarenessSnapshot() ?? null;
  }

  /** Drops pending state older than the bound (sweep); returns what was dropped. */
  dropStalePending(): PendingState | undefined {
    return this.handler.dropStalePending();
  }

  /** Releases the document. */
  destroy(): void {
    this.doc.destroy();
  }
}
