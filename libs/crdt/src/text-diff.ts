/**
 * Minimal single-splice diff between two strings in UTF-16 code units (the unit Yjs uses),
 * never splitting a surrogate pair.
 */

/** One splice: delete `deleteCount` code units at `index`, then insert `insert` there. */
export interface TextSplice {
  /** Offset in UTF-16 code units. */
  index: number;
  /** Code units to delete at `index`. */
  deleteCount: number;
  /** Text to insert at `index` after the delete. */
  insert: string;
}

function isHigh(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * The single delete + insert that turns `oldText` into `newText`, keeping the longest common
 * prefix and suffix. Offsets never fall inside a surrogate pair. `null` when equal.
 */
export function computeSplice(oldText: string, newText: string): TextSplice | null {
  if (oldText === newText) return null;
  const max = Math.min(oldText.length, newText.length);
  let prefix = 0;
  while (prefix < max && oldText.charCodeAt(prefix) === newText.charCodeAt(prefix)) prefix++;
  // Do not cut between a high and a low surrogate.
  if (prefix > 0 && isHigh(oldText.charCodeAt(prefix - 1))) prefix--;
  let suffix = 0;
  const maxSuffix = max - prefix;
  while (
    suffix < maxSuffix &&
    oldText.charCodeAt(oldText.length - 1 - suffix) === newText.charCodeAt(newText.length - 1 - suffix)
  ) {
    suffix++;
  }
  if (suffix > 0 && isLow(oldText.charCodeAt(oldText.length - suffix))) suffix--;
  return {
    index: prefix,
    deleteCount: oldText.length - prefix - suffix,
    insert: newText.slice(prefix, newText.length - suffix),
  };
}
