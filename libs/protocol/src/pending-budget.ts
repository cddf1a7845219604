/**
 * The bound on Yjs pending state of one document (docs/limits.md, "Updates that cannot apply").
 *
 * Yjs keeps structs/deletes whose dependencies are missing as "pending" and re-merges them on
 * every later update, and `encodeStateAsUpdate` ships them to every syncing client. A document
 * may hold pending state only briefly and only a little of it: an "episode" starts with the first
 * update that leaves pending state and ends when it integrates (or is dropped). While it lasts,
 * frames are not acknowledged (their content is not durable yet). An update that ADDS pending
 * state beyond {@link PendingLimits.maxBytes} or beyond {@link PendingLimits.maxUpdates} additions
 * is refused (its sender is closed with 4400) and the pending state is dropped; an episode older
 * than {@link PendingLimits.maxAgeMs} is dropped at the next apply or sweep.
 *
 * Except when everything the pending state waits for belongs to clients the document already
 * has content from: that is a gap in a known writer's stream, i.e. frames still on their way (a
 * burst that overtook a frame re-sent after a shard handover). Then the pending state is dropped
 * all the same but the update is only left unacknowledged, so its sender re-sends it after the
 * gap closed, instead of closing a legitimate client with 4400.
 */
import * as Y from 'yjs';
import { pendingStateOf, takePendingState, type PendingState } from './update-inspection';

/** Bounds of one document's pending state. */
export interface PendingLimits {
  /** Most bytes of pending structs + pending delete set (default 64 KiB). */
  maxBytes: number;
  /** Most updates that may add pending state in one episode (default 64). */
  maxUpdates: number;
  /** Longest episode in ms (default 10 000). */
  maxAgeMs: number;
}

/** Defaults of {@link PendingLimits}. */
export const DEFAULT_PENDING_LIMITS: PendingLimits = {
  maxBytes: 64 * 1024,
  maxUpdates: 64,
  maxAgeMs: 10_000,
};

/** Outcome of one apply for the pending bound. */
export type PendingVerdict =
  /** No pending state: acknowledge normally. */
  | { kind: 'clear' }
  /**
   * Pending state within the bound: do not acknowledge the frame yet. `staleDropped`: the episode
   * outlived `maxAgeMs` and its pending state was dropped (alert).
   */
  | { kind: 'pending'; staleDropped?: PendingState }
  /**
   * Over the bound while waiting only for known writers' frames (see module doc): the pending
   * state was dropped; do not acknowledge the frame (it is re-sent), do not refuse it.
   */
  | { kind: 'shed'; dropped: PendingState; reason: string }
  /** This update pushed pending state over the bound: it was dropped; refuse the update. */
  | { kind: 'exceeded'; dropped: PendingState; reason: string };

const total = (p: PendingState): number => p.structBytes + p.deleteSetBytes;

/** See module doc. One per document. */
export class PendingBudget {
  private since: number | undefined;
  private additions = 0;

  constructor(
    private readonly limits: PendingLimits = DEFAULT_PENDING_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Size of `doc`'s pending state now (take it before an apply, pass it to {@link afterApply}). */
  measure(doc: Y.Doc): PendingState {
    return pendingStateOf(doc);
  }

  /** Judges the pending state after an apply, given its size `before`; drops it when over the bound. */
  afterApply(doc: Y.Doc, before: PendingState): PendingVerdict {
    const after = pendingStateOf(doc);
    if (total(after) === 0) {
      this.reset();
      return { kind: 'clear' };
    }
    const added = after.structBytes > before.structBytes || after.deleteSetBytes > before.deleteSetBytes;
    this.since ??= this.now();
    if (added) this.additions++;
    let reason: string | undefined;
    if (added && total(after) > this.limits.maxBytes)
      reason = `pending state above ${this.limits.maxBytes} bytes`;
    else if (added && this.additions > this.limits.maxUpdates)
      reason = `more than ${this.limits.maxUpdates} updates waiting for missing dependencies`;
    if (reason === undefined) {
      const stale = this.dropIfStale(doc);
      return stale ? { kind: 'pending', staleDropped: stale } : { kind: 'pending' };
    }
    this.reset();
    const kind = waitsOnlyForKnownWriters(doc) ? 'shed' : 'exceeded';
    return { kind, dropped: takePendingState(doc) ?? after, reason };
  }

  /** Drops the pending state of `doc` when its episode is older than the bound; returns what was dropped. */
  dropIfStale(doc: Y.Doc): PendingState | undefined {
    if (this.since === undefined || this.now() - this.since <= this.limits.maxAgeMs) return undefined;
    this.reset();
    return takePendingState(doc);
  }

  private reset(): void {
    this.since = undefined;
    this.additions = 0;
  }
}

/**
 * True when every client whose structs or deletions `doc` holds as pending already has content in
 * `doc` (a gap in a known writer's stream, not structs of an unseen client at a far-future clock).
 */
function waitsOnlyForKnownWriters(doc: Y.Doc): boolean {
  const { pendingStructs, pendingDs } = doc.store;
  const known = (client: number): boolean => Y.getState(doc.store, client) > 0;
  if (pendingStructs) {
    for (const client of pendingStructs.missing.keys()) if (!known(client)) return false;
    for (const s of Y.decodeUpdate(pendingStructs.update).structs) if (!known(s.id.client)) return false;
  }
  if (pendingDs) {
    for (const client of Y.decodeUpdate(pendingDs).ds.clients.keys()) if (!known(client)) return false;
  }
  return true;
}
