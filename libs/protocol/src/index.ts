/**
 * @diaryx-sync/protocol: the codec of the Diaryx Sync wire protocol (docs/protocol.md),
 * transport-agnostic: framing, y-protocols messages, control messages, awareness updates, strict
 * decoding, close/error codes, roles, workspace keys, the authentication subprotocols. No client
 * and no `ws`. The other entry points: `@diaryx-sync/protocol/server` (per-document sync logic),
 * `@diaryx-sync/protocol/client` (the browser-safe client), `@diaryx-sync/protocol/node` (the
 * client with `SyncClient` on `ws`), `@diaryx-sync/protocol/testing` (test servers).
 */
export * from './codes';
export * from './errors';
export * from './roles';
export * from './framing';
export { readBytesStrict, readVarUint8ArrayStrict, readVarUintStrict } from './strict-decoding';
export * from './workspace-keys';
export * from './sync';
export * from './control';
export * from './awareness';
export * from './subprotocols';
