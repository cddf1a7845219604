/**
 * @diaryx-sync/protocol: the Diaryx Sync wire protocol (docs/protocol.md), transport-agnostic:
 * framing, doc ids, y-protocols messages, control messages, close/error codes, the server-side
 * document sync logic, and (in `client/`) the client `SyncSession`/`SyncClient`.
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
export * from './update-inspection';
export * from './pending-budget';
export * from './doc-sync-handler';
export * from './client/index';
