/**
 * `@diaryx-sync/protocol/node`: the whole client side of the sync protocol, the
 * {@link SyncSession} state machine, the document adapters and the {@link SyncClient}, whose
 * default WebSocket is the `ws` package in Node (default-websocket.ts). Browsers import
 * `@diaryx-sync/protocol/client` (browser.ts) instead; the codec is the package root.
 */
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
export {
  readTokenClaims,
  refreshDelay,
  scheduleTokenRefresh,
  type TokenClaimsView,
  type TokenProvider,
  type TokenRefreshHandlers,
} from './token';
export { SyncClientError, type SyncClientErrorKind } from './errors';
export { SYNC_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '../subprotocols';
export { buildSyncUrl, syncSubprotocols, type WebSocketFactory, type WebSocketLike } from './transport';
export { defaultWebSocketFactory } from './default-websocket';
export {
  SyncClient,
  type OneShotOptions,
  type OneShotResult,
  type SyncClientOptions,
  type SyncEventHandler,
} from './sync-client';
export { createCrdtSessionDocuments } from './crdt-documents';
