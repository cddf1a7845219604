import type { FileChangeSet } from './documents';

/** Connection / sync status reported through {@link SyncEvent} `StatusChanged`. */
export type SyncStatus = 'connecting' | 'connected' | 'syncing' | 'synced' | 'reconnecting' | 'disconnected';

/** Events a {@link SyncSession} (and a {@link SyncClient}) reports to the application. */
export type SyncEvent =
  | { readonly type: 'StatusChanged'; readonly status: SyncStatus; readonly attempt?: number }
  | { readonly type: 'Progress'; readonly completed: number; readonly total: number }
  | { readonly type: 'FilesChanged'; readonly changes: FileChangeSet }
  | { readonly type: 'BodyChanged'; readonly path: string }
  /** A body doc was released (`releaseUnfocusedBodiesAfterMs`): not loaded, not synced until needed. */
  | { readonly type: 'BodyReleased'; readonly path: string }
  | { readonly type: 'Saved'; readonly docId: string }
  | {
      readonly type: 'ServerError';
      readonly code: string;
      readonly message?: string;
      readonly docId?: string;
    }
  | { readonly type: 'PeersChanged'; readonly workspaceId?: string; readonly peerCount: number }
  | { readonly type: 'FocusListChanged'; readonly files: readonly string[] }
  | { readonly type: 'Pong' }
  | { readonly type: 'Error'; readonly message: string };

/** Events fed into {@link SyncSession.handle} by the transport layer. */
export type SessionEvent =
  | { readonly type: 'Connected' }
  | { readonly type: 'BinaryMessage'; readonly data: Uint8Array }
  | { readonly type: 'TextMessage'; readonly text: string }
  | { readonly type: 'Disconnected' }
  /** A local change (a y-sync Update payload's data: a Yjs update) to send for `docId`. */
  | { readonly type: 'LocalUpdate'; readonly docId: string; readonly update: Uint8Array }
  /**
   * Files this client opened / closed (paths; see {@link SyncSession.focusedPaths}). The focus set
   * is kept across connections and announced again on every `Connected`.
   */
  | { readonly type: 'Focus'; readonly paths: readonly string[] }
  | { readonly type: 'Unfocus'; readonly paths: readonly string[] }
  /**
   * The application's durability barrier for `docId`: sends `{"action":"save"}` (when connected);
   * the answer is reported as `Saved`, one per request, in order.
   */
  | { readonly type: 'Save'; readonly docId: string }
  /** Periodic timer (retries, the no-`sync_complete` fallback). */
  | { readonly type: 'Tick' }
  /** The snapshot requested by `DownloadSnapshot` has been imported. */
  | { readonly type: 'SnapshotImported' };

/** Actions the transport layer executes after {@link SyncSession.handle}. */
export type SessionAction =
  | { readonly type: 'SendBinary'; readonly data: Uint8Array }
  | { readonly type: 'SendText'; readonly text: string }
  | { readonly type: 'Emit'; readonly event: SyncEvent }
  | { readonly type: 'DownloadSnapshot'; readonly workspaceId: string };
