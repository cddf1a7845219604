/** Client side of the sync protocol: {@link SyncSession} state machine and {@link SyncClient}. */
export * from './documents';
export * from './events';
export { SyncSession, canonicalSessionPath, type SyncSessionOptions } from './session';
export {
  REMOTE_ORIGIN,
  createYDocSessionDocuments,
  diffFileSnapshots,
  type YDocSessionDocuments,
} from './ydoc-documents';
export { DEFAULT_RECONNECT, backoffDelay, type ReconnectOptions } from './backoff';
export { SyncClientError, type SyncClientErrorKind } from './errors';
export {
  SYNC_SUBPROTOCOL,
  TOKEN_SUBPROTOCOL_PREFIX,
  buildSyncUrl,
  syncSubprotocols,
  type WebSocketFactory,
  type WebSocketLike,
} from './transport';
export { defaultWebSocketFactory } from './default-websocket';
export {
  SyncClient,
  type OneShotOptions,
  type OneShotResult,
  type SyncClientOptions,
  type SyncEventHandler,
} from './sync-client';
export { createCrdtSessionDocuments } from './crdt-documents';
