/**
 * `collectUpdate`: the update (encoding v1) a mutation produces on a Yjs doc, to persist or send
 * exactly what changed.
 */
import * as Y from 'yjs';

/** The update `mutate` makes on `doc`, or null when it changed nothing. */
export function collectUpdate(doc: Y.Doc, mutate: () => void): Uint8Array | null {
  const before = Y.encodeStateVector(doc);
  let changed = false;
  const onUpdate = (): void => {
    changed = true;
  };
  doc.on('update', onUpdate);
  try {
    mutate();
  } finally {
    doc.off('update', onUpdate);
  }
  return changed ? Y.encodeStateAsUpdate(doc, before) : null;
}
