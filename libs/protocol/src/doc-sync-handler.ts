/**
 * Server-side sync logic for one document: the doc service runs exactly this for every
 * incoming (unframed) payload. Pure: no I/O, no timers; the caller delivers the results.
 *
 * Message flow (docs/protocol.md#server-behaviour-per-document):
 *
 * ```
 * client                                   server (DocSyncHandler.handle)
 *   SyncStep1(sv_c)  ───────────────────▶  replies: SyncStep2(diff the client lacks),
 *                                                   SyncStep1(sv_s)
 *   SyncStep2/Update(u) ────────────────▶  editor/admin: apply; if the doc changed →
 *                                            broadcast: Update(change) to the other subscribers
 *                                            persist:   change (Yjs update) for storage
 *                                          viewer: not applied; if it WOULD change the doc →
 *                                            readOnlyViolation (the endpoint answers: sync2
 *                                            the read_only error, yjs PERMISSION_DENIED_REPLY);
 *                                            else silently ignored
 *   Awareness(a)     ───────────────────▶  recorded per connection; broadcast: Awareness(a)
 *   QueryAwareness   ───────────────────▶  replies: Awareness(all current states)   (yjs only)
 *   (connection leaves) connectionLeft ─▶  Awareness(its states set to null) to broadcast
 * ```
 *
 * A malformed payload throws {@link ProtocolError} before anything is applied (decode and
 * validation happen first), so a protocol error never affects the document or other
 * connections.
 *
 * Yjs pending state (structs/deletes whose dependencies the doc lacks) is bounded by a
 * {@link PendingBudget}: while the doc holds any, results say `pending` (do not acknowledge: the
 * content is not durable yet); an update that adds pending state beyond the bound is refused with
 * `missing_dependencies` (close 4400) and the pending state is dropped (docs/limits.md).
 */
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { AwarenessRegistry, decodeAwarenessUpdate } from './awareness';
import { ProtocolError } from './errors';
import { assertSafeWorkspaceKeys } from './workspace-keys';
import type { Role } from './roles';
import {
  MessageType,
  decodeMessages,
  encodeMessage,
  encodeMessages,
  type Dialect,
  type ProtocolMessage,
} from './sync';
import { DEFAULT_PENDING_LIMITS, PendingBudget, type PendingLimits } from './pending-budget';
import {
  assertUpdateApplies,
  decodeStateVectorStrict,
  decodeUpdateStrict,
  updateWouldChangeDoc,
  type PendingState,
} from './update-inspection';

/** The connection a payload came from. */
export interface ConnectionDescriptor {
  /** Unique connection id (cluster-wide, e.g. `${gatewayId}:${n}`). */
  id: string;
  /** Role of its token. `viewer` may sync and read but not change the document. */
  role: Role;
  /** Endpoint dialect: `sync2` (default) or `yjs` (allows Auth/QueryAwareness). */
  dialect?: Dialect;
}

/** What to do after handling one payload. */
export interface DocSyncResult {
  /** Payloads to send back to the connection, in order (one y-protocols message each). */
  replies: Uint8Array[];
  /**
   * Payload for every OTHER subscriber of the doc: an Update message with the change (only if
   * the document changed) and/or the relayed Awareness messages. Absent when there is nothing.
   * Stock y-websocket clients read one message per WebSocket message: use `splitMessages`.
   */
  broadcast?: Uint8Array;
  /** The Yjs update (v1) to persist, only if the document changed. */
  persist?: Uint8Array;
  /** A viewer sent a SyncStep2/Update that would have changed the document (not applied). */
  readOnlyViolation: boolean;
  /**
   * The payload held a SyncStep1 (the connection started a sync exchange; its answer is in
   * `replies`). The cluster sends `sync_complete` after the first one on a workspace doc.
   */
  sawSyncStep1: boolean;
  /**
   * The document holds pending state after this payload (part of some update waits for missing
   * dependencies): do NOT acknowledge the frame; its sender re-sends it later.
   */
  pending: boolean;
  /** Pending state that was dropped while handling this payload (alert: log + metric). */
  droppedPending?: PendingState;
  /**
   * Set only when an update passed validation but failed while being applied, or could not be
   * applied as sent (`missing_dependencies`): processing stopped there, `persist`/`broadcast` hold whatever did change (deliver
   * them, so storage matches memory), then close the connection with `error.closeCode`.
   */
  error?: ProtocolError;
}

/** Result of a server-side change ({@link DocSyncHandler.applyServerUpdate}). */
export interface ServerUpdateResult {
  /** Update message payload for every subscriber, only if the document changed. */
  broadcast?: Uint8Array;
  /** The Yjs update (v1) to persist, only if the document changed. */
  persist?: Uint8Array;
  /** Set when the update failed while being applied; the fields above hold what did change. */
  error?: ProtocolError;
  /** As {@link DocSyncResult.pending}. */
  pending: boolean;
  /** As {@link DocSyncResult.droppedPending}. */
  droppedPending?: PendingState;
}

/** Options of {@link DocSyncHandler}. */
export interface DocSyncHandlerOptions {
  /** Bound of the doc's Yjs pending state (default {@link DEFAULT_PENDING_LIMITS}). */
  pendingLimits?: PendingLimits;
  /** Clock for the pending-state age (default `Date.now`). */
  now?: () => number;
}

/** Prepared (decoded and validated) message, ready to be processed without failing. */
type Prepared =
  | { kind: 'step1'; stateVector: Uint8Array }
  | { kind: 'change'; update: Uint8Array; decoded?: ReturnType<typeof Y.decodeUpdate> }
  | { kind: 'awareness'; update: Uint8Array }
  | { kind: 'query-awareness' }
  | { kind: 'ignore' };

function prepare(message: ProtocolMessage, canWrite: boolean): Prepared {
  switch (message.type) {
    case 'syncStep1':
      decodeStateVectorStrict(message.stateVector);
      return { kind: 'step1', stateVector: message.stateVector };
    case 'syncStep2':
    case 'update':
      if (canWrite) {
        // Writers: trial-apply to a scratch doc so a malformed update never half-applies.
        assertUpdateApplies(message.update);
        return { kind: 'change', update: message.update };
      }
      return { kind: 'change', update: message.update, decoded: decodeUpdateStrict(message.update) };
    case 'awareness':
      return { kind: 'awareness', update: message.update };
    case 'queryAwareness':
      return { kind: 'query-awareness' };
    case 'permissionDenied':
      return { kind: 'ignore' };
  }
}

/**
 * The answer to a SyncStep1 carrying `stateVector`: SyncStep2 (what that state vector lacks of
 * `doc`), then SyncStep1 (the state vector of `doc`), one message each, by y-protocols' writers.
 */
function answerSyncStep1(doc: Y.Doc, stateVector: Uint8Array): Uint8Array[] {
  const step2 = encoding.createEncoder();
  encoding.writeVarUint(step2, MessageType.Sync);
  syncProtocol.writeSyncStep2(step2, doc, stateVector);
  const step1 = encoding.createEncoder();
  encoding.writeVarUint(step1, MessageType.Sync);
  syncProtocol.writeSyncStep1(step1, doc);
  return [encoding.toUint8Array(step2), encoding.toUint8Array(step1)];
}

/** Merges zero or more Yjs updates into one (or `undefined` for none). */
function mergeAll(updates: Uint8Array[]): Uint8Array | undefined {
  if (updates.length === 0) return undefined;
  if (updates.length === 1) return updates[0];
  return Y.mergeUpdates(updates);
}

/**
 * The sync logic for one document: apply/answer incoming payloads, track awareness per
 * connection. One instance per loaded document.
 */
export class DocSyncHandler {
  /** The document this handler serves. */
  readonly doc: Y.Doc;
  /** Awareness states of this document, by owning connection. */
  readonly awareness = new AwarenessRegistry();
  private readonly pendingBudget: PendingBudget;

  /** Serves `doc` (the caller loads it and persists what {@link DocSyncHandler.handle} returns). */
  constructor(doc: Y.Doc, options: DocSyncHandlerOptions = {}) {
    this.doc = doc;
    this.pendingBudget = new PendingBudget(options.pendingLimits ?? DEFAULT_PENDING_LIMITS, options.now);
    doc.on('update', () => {
      this.answerToEmpty = undefined;
    });
  }

  /**
   * The answer to a SyncStep1 with an empty state vector (a client without any state, the usual
   * new joiner), kept until the document changes: a join storm on a big document encodes it once
   * instead of once per joiner (docs/benchmarks.md, joinstorm).
   */
  private answerToEmpty: Uint8Array[] | undefined;

  private answerSyncStep1(stateVector: Uint8Array): Uint8Array[] {
    const empty = stateVector.length === 1 && stateVector[0] === 0;
    if (!empty) return answerSyncStep1(this.doc, stateVector);
    return (this.answerToEmpty ??= answerSyncStep1(this.doc, stateVector));
  }

  /**
   * Handles one payload (one or more y-protocols messages) from `connection`. Changes are
   * applied in a Yjs transaction whose origin is `connection`.
   *
   * @throws {@link ProtocolError} for a malformed payload; nothing has been applied then
   * (see {@link DocSyncResult.error} for the one exception).
   */
  handle(connection: ConnectionDescriptor, payload: Uint8Array): DocSyncResult {
    const dialect = connection.dialect ?? 'sync2';
    const canWrite = connection.role !== 'viewer';
    const prepared = decodeMessages(payload, dialect).map((m) => prepare(m, canWrite));
    // Awareness updates are validated up front too, so a bad one rejects the whole payload.
    for (const p of prepared) if (p.kind === 'awareness') this.validateAwareness(p.update);
    // A workspace file added under an unsafe name rejects the payload (docs/protocol.md#paths).
    if (canWrite) for (const p of prepared) if (p.kind === 'change') assertSafeWorkspaceKeys(p.update);

    const replies: Uint8Array[] = [];
    const changes: Uint8Array[] = [];
    const relayed: ProtocolMessage[] = [];
    let readOnlyViolation = false;
    let sawSyncStep1 = false;
    let error: ProtocolError | undefined;
    let pending = false;
    let droppedPending: PendingState | undefined;

    for (const p of prepared) {
      if (error) break;
      switch (p.kind) {
        case 'step1':
          sawSyncStep1 = true;
          replies.push(...this.answerSyncStep1(p.stateVector));
          break;
        case 'change':
          if (canWrite) {
            const applied = this.applyCapturing(p.update, connection);
            changes.push(...applied.emitted);
            error = applied.error;
            pending = applied.pending;
            droppedPending = applied.droppedPending ?? droppedPending;
          } else if (updateWouldChangeDoc(this.doc, p.update, p.decoded)) {
            readOnlyViolation = true;
          }
          break;
        case 'awareness':
          relayed.push({ type: 'awareness', update: this.awareness.apply(connection.id, p.update) });
          break;
        case 'query-awareness': {
          const snapshot = this.awareness.snapshot();
          if (snapshot) replies.push(encodeMessage({ type: 'awareness', update: snapshot }));
          break;
        }
        case 'ignore':
          break;
      }
    }

    const persist = mergeAll(changes);
    const outgoing: ProtocolMessage[] = [];
    if (persist) outgoing.push({ type: 'update', update: persist });
    outgoing.push(...relayed);
    const result: DocSyncResult = { replies, readOnlyViolation, sawSyncStep1, pending };
    if (droppedPending) result.droppedPending = droppedPending;
    if (outgoing.length > 0) result.broadcast = encodeMessages(outgoing);
    if (persist) result.persist = persist;
    if (error) result.error = error;
    return result;
  }

  /**
   * Applies a server-side change (HTTP API restore, history worker, ClusterClient) as a
   * forward update.
   *
   * @throws {@link ProtocolError} (`bad_update`) when the update is malformed (not applied).
   */
  applyServerUpdate(update: Uint8Array, origin: unknown = 'server'): ServerUpdateResult {
    assertUpdateApplies(update);
    const applied = this.applyCapturing(update, origin);
    const persist = mergeAll(applied.emitted);
    const result: ServerUpdateResult = { pending: applied.pending };
    if (applied.droppedPending) result.droppedPending = applied.droppedPending;
    if (persist) {
      result.persist = persist;
      result.broadcast = encodeMessage({ type: 'update', update: persist });
    }
    if (applied.error) result.error = applied.error;
    return result;
  }

  /**
   * Forgets a connection's awareness states. Returns the Awareness message payload that removes
   * them, to broadcast to the remaining subscribers, or `undefined` when it had none.
   */
  connectionLeft(connectionId: string): Uint8Array | undefined {
    const update = this.awareness.removeConnection(connectionId);
    return update ? encodeMessage({ type: 'awareness', update }) : undefined;
  }

  /**
   * An Awareness message payload with every current awareness state (send it to a newly
   * subscribed connection), or `undefined` when there is none.
   */
  awarenessSnapshot(): Uint8Array | undefined {
    const update = this.awareness.snapshot();
    return update ? encodeMessage({ type: 'awareness', update }) : undefined;
  }

  /**
   * Drops the doc's pending state when its episode outlived the bound (call from a periodic
   * sweep); returns what was dropped (alert), or `undefined`.
   */
  dropStalePending(): PendingState | undefined {
    return this.pendingBudget.dropIfStale(this.doc);
  }

  private validateAwareness(update: Uint8Array): void {
    decodeAwarenessUpdate(update);
  }

  /**
   * Applies `update`; returns the updates the document emitted (empty when unchanged), even
   * when applying failed half-way (then with `error`), and the pending-state verdict.
   */
  private applyCapturing(
    update: Uint8Array,
    origin: unknown,
  ): { emitted: Uint8Array[]; error?: ProtocolError; pending: boolean; droppedPending?: PendingState } {
    const emitted: Uint8Array[] = [];
    const listener = (u: Uint8Array): void => {
      emitted.push(u);
    };
    const before = this.pendingBudget.measure(this.doc);
    this.doc.on('update', listener);
    try {
      Y.applyUpdate(this.doc, update, origin);
    } catch {
      return {
        emitted,
        pending: false,
        error: new ProtocolError('bad_update', 'update could not be applied'),
      };
    } finally {
      this.doc.off('update', listener);
    }
    const verdict = this.pendingBudget.afterApply(this.doc, before);
    switch (verdict.kind) {
      case 'clear':
        return { emitted, pending: false };
      case 'pending':
        return verdict.staleDropped
          ? { emitted, pending: true, droppedPending: verdict.staleDropped }
          : { emitted, pending: true };
      case 'shed':
        return { emitted, pending: true, droppedPending: verdict.dropped };
      case 'exceeded':
        return {
          emitted,
          pending: false,
          droppedPending: verdict.dropped,
          error: new ProtocolError('missing_dependencies', `update cannot apply: ${verdict.reason}; resync`),
        };
    }
  }
}
