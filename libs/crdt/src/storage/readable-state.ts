/**
 * Reading a stored doc that may be damaged: which parts (snapshot, log rows) still decode, and the
 * state they make together. A doc is UNREADABLE when its snapshot or one of its log rows is not a
 * decodable Yjs update; only then is a rebuild called for (docs/self-healing.md).
 */
import * as Y from 'yjs';
import type { CrdtStorage } from './crdt-storage';

/** What is wrong with a stored doc. */
export interface DocDamage {
  /** The snapshot does not decode. */
  badSnapshot: boolean;
  /** Log rows that do not decode. */
  badUpdateIds: number[];
}

/** A stored doc as far as it can be read. */
export interface ReadableDocState {
  /** Merged state of every part that decodes (`null`: nothing stored, or nothing decodes). */
  state: Uint8Array | null;
  /** `null` when every part decodes. */
  damage: DocDamage | null;
}

/** True when `update` decodes as a Yjs update (applied to a throw-away doc). */
export function isDecodableUpdate(update: Uint8Array): boolean {
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, update);
    return true;
  } catch {
    return false;
  } finally {
    doc.destroy();
  }
}

/**
 * Loads `doc`: the fast path is `loadDoc` (checked to decode); when it throws or does not decode,
 * the snapshot and each log row are checked one by one and the decodable ones merged.
 */
export async function readDocState(storage: CrdtStorage, doc: string): Promise<ReadableDocState> {
  try {
    const state = await storage.loadDoc(doc);
    if (state === null || isDecodableUpdate(state)) return { state, damage: null };
  } catch {
    // one of the parts does not decode: find which below
  }
  const snapshot = await storage.getStateAt(doc, 0);
  const rows = await storage.getAllUpdates(doc);
  const damage: DocDamage = { badSnapshot: false, badUpdateIds: [] };
  const merged = new Y.Doc();
  try {
    if (snapshot !== null) {
      if (isDecodableUpdate(snapshot)) Y.applyUpdate(merged, snapshot);
      else damage.badSnapshot = true;
    }
    let any = snapshot !== null && !damage.badSnapshot;
    for (const row of rows) {
      if (isDecodableUpdate(row.data)) {
        Y.applyUpdate(merged, row.data);
        any = true;
      } else damage.badUpdateIds.push(row.id);
    }
    const damaged = damage.badSnapshot || damage.badUpdateIds.length > 0;
    return { state: any ? Y.encodeStateAsUpdate(merged) : null, damage: damaged ? damage : null };
  } finally {
    merged.destroy();
  }
}
