/**
 * Server-side sync of one loaded document (PROTOCOL.md §2 "Server behaviour per document"), no I/O:
 * given a connection and a payload (one or more y-protocols messages) it applies what is allowed
 * and returns the replies for that connection, the messages to broadcast to the others, and the
 * updates to persist. Awareness states are tracked per connection so that a leaving connection's
 * states can be removed for the others.
 *
 * Rules: SyncStep1 → SyncStep2 (what the sender lacks) then our SyncStep1. SyncStep2/Update →
 * applied; if it changed the doc, the effective change (as emitted by Yjs) is broadcast as an
 * Update and persisted. A `viewer` whose SyncStep2/Update would change the doc is not applied
 * (`readOnlyViolation`); one that changes nothing is ignored. Awareness is relayed verbatim.
 * QueryAwareness (y-websocket) is answered with every known awareness state.
 */
import { decodeMessages, encodeMessage, ProtocolError } from '@diaryx-sync/protocol';
import type { Role } from '@diaryx-sync/bus';
import * as Y from 'yjs';
import type * as AwarenessModule from 'y-protocols/awareness' with { 'resolution-mode': 'import' };

// y-protocols ships ESM typings with a CommonJS build: load the CJS build, typed by the ESM declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const awarenessProtocol = require('y-protocols/awareness') as typeof AwarenessModule;

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
}

/** The payload is malformed (bad message, bad update, bad state vector): close with 4400. */
export class BadPayloadError extends Error {
  override readonly name = 'BadPayloadError';
}

const REMOTE = Symbol('remote');

/** One document held by a shard owner, with its awareness registry. */
export class DocSync {
  readonly awareness: AwarenessModule.Awareness;
  /** Awareness client ids announced by each connection. */
  private readonly clientsByConn = new Map<string, Set<number>>();
  private captured: Uint8Array[] | null = null;

  constructor(readonly doc: Y.Doc) {
    this.awareness = new awarenessProtocol.Awareness(doc);
    this.awareness.setLocalState(null);
    // Relayed states are not ours to time out (clients renew them); the registry removes them on leave.
    clearInterval((this.awareness as unknown as { _checkInterval: NodeJS.Timeout })._checkInterval);
    doc.on('update', (update: Uint8Array) => this.captured?.push(update));
    this.awareness.on(
      'update',
      ({ added, updated, removed }: { added: number[]; updated: number[]; removed: number[] }, origin: unknown) => {
        if (typeof origin !== 'string') return;
        let set = this.clientsByConn.get(origin);
        if (!set) this.clientsByConn.set(origin, (set = new Set()));
        for (const id of added) set.add(id);
        for (const id of updated) set.add(id);
        for (const id of removed) set.delete(id);
      },
    );
  }

  /**
   * Handles one payload from `conn`.
   * @throws {BadPayloadError} for malformed input (nothing is applied from a payload that fails to decode).
   */
  handle(conn: SyncConnection, payload: Uint8Array): SyncResult {
    let messages;
    try {
      messages = decodeMessages(payload, 'yjs');
    } catch (err) {
      if (err instanceof ProtocolError) throw new BadPayloadError(err.message);
      throw err;
    }
    const result: SyncResult = { replies: [], broadcast: [], persist: [], readOnlyViolation: false, sawSyncStep1: false };
    for (const m of messages) {
      switch (m.type) {
        case 'syncStep1': {
          result.sawSyncStep1 = true;
          let diff: Uint8Array;
          try {
            diff = Y.encodeStateAsUpdate(this.doc, m.stateVector);
          } catch (err) {
            throw new BadPayloadError(`bad state vector: ${(err as Error).message}`);
          }
          result.replies.push(encodeMessage({ type: 'syncStep2', update: diff }));
          result.replies.push(encodeMessage({ type: 'syncStep1', stateVector: Y.encodeStateVector(this.doc) }));
          break;
        }
        case 'syncStep2':
        case 'update': {
          if (conn.role === 'viewer') {
            if (this.wouldChange(m.update)) result.readOnlyViolation = true;
            break;
          }
          for (const u of this.apply(m.update)) {
            result.persist.push(u);
            result.broadcast.push(encodeMessage({ type: 'update', update: u }));
          }
          break;
        }
        case 'awareness': {
          try {
            awarenessProtocol.applyAwarenessUpdate(this.awareness, m.update, conn.id);
          } catch (err) {
            throw new BadPayloadError(`bad awareness update: ${(err as Error).message}`);
          }
          result.broadcast.push(encodeMessage({ type: 'awareness', update: m.update }));
          break;
        }
        case 'queryAwareness': {
          const states = [...this.awareness.getStates().keys()];
          if (states.length > 0) {
            const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, states);
            result.replies.push(encodeMessage({ type: 'awareness', update }));
          }
          break;
        }
        case 'permissionDenied':
          break;
      }
    }
    return result;
  }

  /** Applies a server-side update (ClusterClient `apply`); returns the effective changes. */
  applyServerUpdate(update: Uint8Array): { persist: Uint8Array[]; broadcast: Uint8Array[] } {
    const persist = this.apply(update);
    return { persist, broadcast: persist.map((u) => encodeMessage({ type: 'update', update: u })) };
  }

  /**
   * Removes a connection: its awareness states are dropped; returns the awareness message to
   * broadcast to the others, or `null` when it had none.
   */
  removeConnection(connKey: string): Uint8Array | null {
    const ids = this.clientsByConn.get(connKey);
    this.clientsByConn.delete(connKey);
    if (!ids || ids.size === 0) return null;
    const present = [...ids].filter((id) => this.awareness.getStates().has(id));
    if (present.length === 0) return null;
    awarenessProtocol.removeAwarenessStates(this.awareness, present, REMOTE);
    const update = awarenessProtocol.encodeAwarenessUpdate(this.awareness, present);
    return encodeMessage({ type: 'awareness', update });
  }

  /**
   * Removes awareness states not renewed for `timeoutMs` (clients renew every 15 s); called by
   * the registry's periodic sweep instead of one timer per document.
   */
  sweepOutdatedAwareness(timeoutMs: number = awarenessProtocol.outdatedTimeout, now = Date.now()): void {
    const stale: number[] = [];
    for (const [id, meta] of this.awareness.meta) {
      if (this.awareness.getStates().has(id) && now - meta.lastUpdated > timeoutMs) stale.push(id);
    }
    if (stale.length > 0) awarenessProtocol.removeAwarenessStates(this.awareness, stale, 'timeout');
  }

  /** Connections (keys) with awareness state on this doc. */
  awarenessConnections(): string[] {
    return [...this.clientsByConn.keys()];
  }

  /** Releases timers and listeners. */
  destroy(): void {
    this.awareness.destroy();
    this.doc.destroy();
  }

  private apply(update: Uint8Array): Uint8Array[] {
    const captured: Uint8Array[] = [];
    this.captured = captured;
    try {
      Y.applyUpdate(this.doc, update, REMOTE);
    } catch (err) {
      throw new BadPayloadError(`bad update: ${(err as Error).message}`);
    } finally {
      this.captured = null;
    }
    return captured;
  }

  /** True when applying `update` would change the document (used for viewers; nothing is applied). */
  private wouldChange(update: Uint8Array): boolean {
    let decoded;
    try {
      decoded = Y.decodeUpdate(update);
    } catch (err) {
      throw new BadPayloadError(`bad update: ${(err as Error).message}`);
    }
    if (decoded.structs.length === 0 && decoded.ds.clients.size === 0) return false;
    const sv = Y.decodeStateVector(Y.encodeStateVector(this.doc));
    const newStructs = decoded.structs.some((s) => s.id.clock + s.length > (sv.get(s.id.client) ?? 0));
    if (newStructs) return true;
    if (decoded.ds.clients.size === 0) return false;
    // Deletions only: check on a scratch copy whether any of them is new.
    const scratch = new Y.Doc({ gc: false });
    try {
      Y.applyUpdate(scratch, Y.encodeStateAsUpdate(this.doc));
      let changed = false;
      scratch.on('update', () => {
        changed = true;
      });
      Y.applyUpdate(scratch, update);
      return changed;
    } catch (err) {
      throw new BadPayloadError(`bad update: ${(err as Error).message}`);
    } finally {
      scratch.destroy();
    }
  }
}
