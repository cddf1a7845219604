/**
 * Transaction origins used by the document wrappers to tell local edits from remote ones.
 */

/** Origin of updates applied through `applyUpdate` (from a peer or the server). */
export const REMOTE_ORIGIN: unique symbol = Symbol('diaryx-sync:remote');
/** Origin of local edits made through the wrapper methods. */
export const LOCAL_ORIGIN: unique symbol = Symbol('diaryx-sync:local');
/** Origin of state loaded from storage (never persisted again, never echoed). */
export const LOAD_ORIGIN: unique symbol = Symbol('diaryx-sync:load');

/** Information passed to update observers. */
export interface UpdateInfo {
  /** The Yjs transaction origin. */
  origin: unknown;
  /** True for local edits; false for updates applied via `applyUpdate` or loaded from storage. */
  local: boolean;
}

/** An update observer: receives every update (encoding v1) with its origin. */
export type UpdateListener = (update: Uint8Array, info: UpdateInfo) => void;
