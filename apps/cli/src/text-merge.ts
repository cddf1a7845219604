import diff from 'fast-diff';
import * as Y from 'yjs';

/**
 * Applies the edit `from → to` to `text` (whose content is `from`) as the minimal deletes and
 * inserts of a character diff (semantic cleanup), so that only the changed parts are touched.
 * Runs inside the caller's transaction if there is one.
 */
export function applyTextDiff(text: Y.Text, from: string, to: string): void {
  if (from === to) return;
  let index = 0;
  for (const [op, chunk] of diff(from, to, undefined, true)) {
    if (op === diff.EQUAL) index += chunk.length;
    else if (op === diff.DELETE) text.delete(index, chunk.length);
    else {
      text.insert(index, chunk);
      index += chunk.length;
    }
  }
}

/** Result of {@link mergeLocalText}. */
export interface TextMergeResult {
  /** Whether the live document changed. */
  readonly changed: boolean;
  /**
   * Full state of the base with the local edit applied (a state the live doc now contains, whose
   * text is exactly the local text): the new base for the next local edit.
   */
  readonly baseState: Uint8Array;
}

/**
 * Three-way merge of a local text edit into a live Yjs document.
 *
 * `baseState` is the document state whose text (`textName`) was last synchronized with the local
 * copy; `localText` is the local copy now. The edit base → local is computed on a fork of the
 * base state and the fork's new operations are merged into `live` (transaction `origin`), so
 * edits `live` received since the base (remote changes) are kept, and only what the local side
 * changed is changed. The fork writes as the doc's merge client (see {@link mergeClientId}).
 */
export function mergeLocalText(
  live: Y.Doc,
  textName: string,
  baseState: Uint8Array,
  localText: string,
  origin: unknown,
): TextMergeResult {
  if (!contains(live, baseState)) {
    // Not a base of this doc (should not happen): fall back to a two-way edit live → local.
    const text = live.getText(textName);
    const current = text.toString();
    if (current === localText) return { changed: false, baseState: Y.encodeStateAsUpdate(live) };
    live.transact(() => applyTextDiff(text, current, localText), origin);
    return { changed: true, baseState: Y.encodeStateAsUpdate(live) };
  }
  const fork = new Y.Doc();
  Y.applyUpdate(fork, baseState);
  fork.clientID = mergeClientId(live, baseState);
  const forkText = fork.getText(textName);
  const baseText = forkText.toString();
  if (baseText === localText) {
    fork.destroy();
    return { changed: false, baseState };
  }
  const before = Y.encodeStateVector(fork);
  fork.transact(() => applyTextDiff(forkText, baseText, localText));
  const edit = Y.encodeStateAsUpdate(fork, before);
  const newBase = Y.encodeStateAsUpdate(fork);
  fork.destroy();
  Y.applyUpdate(live, edit, origin);
  return { changed: true, baseState: newBase };
}

/** Whether `doc` holds every insert of the state `state` (its state vector dominates). */
function contains(doc: Y.Doc, state: Uint8Array): boolean {
  for (const [client, clock] of Y.decodeStateVector(Y.encodeStateVectorFromUpdate(state))) {
    if (Y.getState(doc.store, client) < clock) return false;
  }
  return true;
}

/** Per live doc: the client id its merged local edits are written as. */
const mergeClients = new WeakMap<Y.Doc, number>();

/**
 * The client id a fork of `baseState` writes as: one id per live doc, reused while the live doc
 * holds no struct of that id beyond the base (so clocks never clash and the state vector does
 * not grow by one client per edit); a fresh id otherwise. Never the doc's own id (Yjs would take
 * its own id arriving in an update for a clash and switch ids).
 */
function mergeClientId(live: Y.Doc, baseState: Uint8Array): number {
  const known = mergeClients.get(live);
  if (known !== undefined && known !== live.clientID) {
    const baseClock = Y.decodeStateVector(Y.encodeStateVectorFromUpdate(baseState)).get(known) ?? 0;
    if (Y.getState(live.store, known) === baseClock) return known;
  }
  let fresh: number;
  do fresh = randomUint32();
  while (fresh === live.clientID || Y.getState(live.store, fresh) > 0);
  mergeClients.set(live, fresh);
  return fresh;
}

function randomUint32(): number {
  return globalThis.crypto.getRandomValues(new Uint32Array(1))[0] ?? Math.floor(Math.random() * 2 ** 32);
}
