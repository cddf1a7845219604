/**
 * @diaryx-sync/protocol: the Diaryx Sync wire protocol (docs/protocol.md), transport-agnostic:
 * framing, y-protocols messages, control messages, close/error codes, roles, and (in `client/`)
 * the client `SyncSession`/`SyncClient`. The server-side document sync logic is
 * `@diaryx-sync/protocol/server`, the test servers `@diaryx-sync/protocol/testing`.
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
export * from './client/index';
