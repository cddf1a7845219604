/**
 * Read-only questions about a Yjs update relative to a document, answered without applying it:
 * is it well-formed, and would applying it change the document? Used to enforce the `viewer`
 * rule (a viewer's update that changes nothing, such as the usual SyncStep2 of a sync exchange,
 * is fine; one that would change the document is refused).
 */
import * as Y from 'yjs';
import { ProtocolError } from './errors';

type DecodedUpdate = ReturnType<typeof Y.decodeUpdate>;
type DeleteItemLike = { clock: number; len: number };

/**
 * Decodes a Yjs v1 update, turning any decoding failure into a {@link ProtocolError}
 * (`bad_update`).
 */
export function decodeUpdateStrict(update: Uint8Array): DecodedUpdate {
  try {
    return Y.decodeUpdate(update);
  } catch {
    throw new ProtocolError('bad_update', 'update could not be decoded');
  }
}

/**
 * Decodes a Yjs state vector, turning any failure into a {@link ProtocolError} (`bad_update`).
 */
export function decodeStateVectorStrict(stateVector: Uint8Array): Map<number, number> {
  try {
    return Y.decodeStateVector(stateVector);
  } catch {
    throw new ProtocolError('bad_update', 'state vector could not be decoded');
  }
}

function isCovered(ranges: readonly DeleteItemLike[], clock: number, len: number): boolean {
  // `ranges` are sorted and maximal (adjacent deleted structs merged): binary search the last
  // range starting at or before `clock`.
  let lo = 0;
  let hi = ranges.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((ranges[mid] as DeleteItemLike).clock <= clock) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  if (found < 0) return false;
  const r = ranges[found] as DeleteItemLike;
  return clock + len <= r.clock + r.len;
}

/**
 * True when applying `update` to `doc` would change it now or later: it carries content the
 * document does not have (including content that would wait as pending), or deletes something
 * not yet deleted. The document is not modified.
 *
 * @throws {@link ProtocolError} (`bad_update`) when the update cannot be decoded.
 */
export function updateWouldChangeDoc(doc: Y.Doc, update: Uint8Array, decoded?: DecodedUpdate): boolean {
  const { structs, ds } = decoded ?? decodeUpdateStrict(update);
  const knownClock = (client: number): number => Y.getState(doc.store, client);
  for (const struct of structs) {
    if (struct instanceof Y.Skip) continue;
    const known = knownClock(struct.id.client);
    if (struct.id.clock + struct.length > known) return true;
  }
  if (ds.clients.size === 0) return false;
  const docDeletes = Y.createDeleteSetFromStructStore(doc.store);
  for (const [client, items] of ds.clients) {
    const known = knownClock(client);
    const ranges = docDeletes.clients.get(client) ?? [];
    for (const item of items) {
      if (item.len <= 0) continue;
      if (item.clock + item.len > known) return true;
      if (!isCovered(ranges, item.clock, item.len)) return true;
    }
  }
  return false;
}

/**
 * An item can only refer (origin, right origin, parent) to items that existed when it was
 * created, so a reference to its own client must be to an earlier clock. Yjs assumes so without
 * checking (it never waits for its own client's structs) and throws half-way through integrating
 * a hostile update that breaks the rule.
 */
function referencesAreEarlier(item: Y.Item): boolean {
  const { client, clock } = item.id;
  const earlier = (ref: Y.ID | null): boolean => ref === null || ref.client !== client || ref.clock < clock;
  const parent = item.parent instanceof Y.ID ? item.parent : null;
  return earlier(item.origin) && earlier(item.rightOrigin) && earlier(parent);
}

/**
 * Validates an update before it touches a document: it must decode whole (structs and delete
 * set: Yjs reads the delete set only after integrating the structs, so an undecodable one would
 * fail half-way), its items must refer to their own client's earlier items only, and, when it
 * can integrate anything on its own, it must apply to a scratch (empty)
 * document. Catches updates that decode but fail during integration (e.g. an item whose origin
 * is a later clock of its own client), so that they are refused before they touch the real one.
 *
 * The scratch apply runs only when some client's structs start at clock 0: in an empty document
 * Yjs integrates a client's structs only from clock 0 on and parks every other update as pending,
 * which proves nothing and costs ten times the decode (re-encoding the pending structs). The
 * usual incremental update of a live editor is therefore decoded, not trial-applied
 * (docs/benchmarks.md, doc-service profile).
 *
 * @throws {@link ProtocolError} (`bad_update`) when the update cannot be decoded or applied.
 */
export function assertUpdateApplies(update: Uint8Array): void {
  const { structs } = decodeUpdateStrict(update);
  for (const s of structs) {
    if (s instanceof Y.Item && !referencesAreEarlier(s)) {
      throw new ProtocolError('bad_update', 'update could not be applied');
    }
  }
  if (!structs.some((s) => s.id.clock === 0 && !(s instanceof Y.Skip))) return;
  // A fixed guid: generating a random one costs ~0.1 ms, more than a typical apply.
  const scratch = new Y.Doc({ guid: 'scratch' });
  try {
    Y.applyUpdate(scratch, update);
  } catch {
    throw new ProtocolError('bad_update', 'update could not be applied');
  } finally {
    scratch.destroy();
  }
}

/** Pending state Yjs kept after an apply (structs/deletes waiting for missing dependencies). */
export interface PendingState {
  /** Bytes of the pending structs update (0 when none). */
  structBytes: number;
  /** Bytes of the pending delete set update (0 when none). */
  deleteSetBytes: number;
}

/** Size of the pending state of `doc` (zeros when none); the document is not modified. */
export function pendingStateOf(doc: Y.Doc): PendingState {
  const { pendingStructs, pendingDs } = doc.store;
  return { structBytes: pendingStructs?.update.length ?? 0, deleteSetBytes: pendingDs?.length ?? 0 };
}

/**
 * Removes and returns the pending state of `doc` (structs and delete sets Yjs could not integrate
 * yet), or `undefined` when there is none. The document's content is unchanged: pending state was
 * never integrated, never emitted as an `update` event, hence never persisted nor acknowledged as
 * part of the document.
 */
export function takePendingState(doc: Y.Doc): PendingState | undefined {
  const { pendingStructs, pendingDs } = doc.store;
  if (pendingStructs === null && pendingDs === null) return undefined;
  doc.store.pendingStructs = null;
  doc.store.pendingDs = null;
  return { structBytes: pendingStructs?.update.length ?? 0, deleteSetBytes: pendingDs?.length ?? 0 };
}
