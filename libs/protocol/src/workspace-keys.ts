/**
 * Paths arriving inside workspace-doc updates (docs/protocol.md#paths): an update that adds a
 * key to the workspace's file map (`files`) must name it safely, like a body doc id would. Keys
 * are found without applying anything: a first-time map key is always encoded with its parent
 * and key (an overwrite points at the earlier entry and inherits its key).
 */
import * as Y from 'yjs';
import { FILES_MAP_NAME, InvalidPathError, isDocIdKey, safePath, tryNormalizePath } from '@diaryx-sync/crdt';
import { ProtocolError } from './errors';

/** Keys the update adds to the root map `files` (each once, in update order). */
export function newWorkspaceFileKeys(update: Uint8Array): string[] {
  const keys = new Set<string>();
  for (const struct of Y.decodeUpdate(update).structs) {
    if (!(struct instanceof Y.Item)) continue;
    // In a decoded (not integrated) update, a root parent is its name.
    const parent: unknown = struct.parent;
    if (parent === FILES_MAP_NAME && typeof struct.parentSub === 'string') keys.add(struct.parentSub);
  }
  return [...keys];
}

/**
 * Refuses an update that adds a workspace file whose path is not safe (`safePath`: bidi controls,
 * Windows reserved names, over-long names, not NFC): `unsafe_path` (close 4400). Keys in doc-id
 * mode (`isDocIdKey`) are ids, not paths; keys that are not valid paths at all are left alone
 * (readers skip them), and non-canonical spellings (`./a.md`) are read as their canonical path.
 *
 * @throws {@link ProtocolError} `unsafe_path`.
 */
export function assertSafeWorkspaceKeys(update: Uint8Array): void {
  for (const key of newWorkspaceFileKeys(update)) {
    if (isDocIdKey(key)) continue;
    const canonical = tryNormalizePath(key);
    if (canonical === null) continue;
    let safe: string;
    try {
      safe = safePath(canonical);
    } catch (error) {
      const why = error instanceof InvalidPathError ? error.reason : 'unsafe path';
      throw new ProtocolError('unsafe_path', `unsafe_path: workspace file: ${why}`);
    }
    if (safe !== canonical)
      throw new ProtocolError('unsafe_path', 'unsafe_path: workspace file: the path is not in Unicode NFC');
  }
}
