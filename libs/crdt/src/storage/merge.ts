/**
 * Merging a snapshot and a list of updates into one Yjs update.
 */
import * as Y from 'yjs';

/**
 * Merges Yjs updates into a single full-state update by applying them into a fresh Y.Doc
 * (`gc` enabled) and re-encoding. Faster and more compact than `Y.mergeUpdates` for long logs of
 * small edits (see docs/benchmarks.md). Returns `null` for an empty list.
 */
export function mergeIntoState(parts: Uint8Array[]): Uint8Array | null {
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0];
  const doc = new Y.Doc();
  try {
    Y.transact(doc, () => {
      for (const p of parts) Y.applyUpdate(doc, p);
    });
    return Y.encodeStateAsUpdate(doc);
  } finally {
    doc.destroy();
  }
}
