/**
 * @diaryx-sync/crdt: the Yjs document model of a Diaryx workspace (workspace and body docs,
 * history, storage, materialize/parse, validation, health tracking). No I/O framework code.
 */
export * from './paths';
export * from './file-metadata';
export * from './migrations';
export * from './storage/crdt-storage';
export * from './storage/memory-storage';
export * from './storage/postgres-storage';
export * from './storage/crdt-migrations';
export { mergeIntoState } from './storage/merge';
