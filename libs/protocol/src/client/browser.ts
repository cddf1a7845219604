/**
 * `@diaryx-sync/protocol/client`: the browser-safe part of the protocol client (no `ws`, no Node
 * built-ins): the {@link SyncSession} state machine, the document adapters, the wire codec it
 * speaks and the authentication subprotocols. `SyncClient` (which defaults to `ws` in Node) is
 * `@diaryx-sync/protocol/node` (index.ts), the test servers `@diaryx-sync/protocol/testing`.
 */
export * from './documents';
export * from './events';
export { SyncSession, canonicalSessionPath, type SyncSessionOptions } from './session';
export { createCrdtSessionDocuments } from './crdt-documents';
export { DEFAULT_RECONNECT, backoffDelay, type ReconnectOptions } from './backoff';
export {
  readTokenClaims,
  refreshDelay,
  scheduleTokenRefresh,
  type TokenClaimsView,
  type TokenProvider,
  type TokenRefreshHandlers,
} from './token';
export { SYNC_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '../subprotocols';
export { WS_OPEN, buildSyncUrl, syncSubprotocols, toMessageData } from './transport';
export { encodeFrame, decodeFrame } from '../framing';
export { decodeMessages, encodeMessage, type ProtocolMessage } from '../sync';
export { CloseCode, ErrorCode, isPermanentCloseCode } from '../codes';
export { ROLES, type Role } from '../roles';
