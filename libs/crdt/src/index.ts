/**
 * @diaryx-sync/crdt: the Yjs document model of a Diaryx workspace (workspace and body docs,
 * history, storage interface and in-memory storage, materialize/parse, validation, health
 * tracking). No I/O framework code, no Node built-ins: bundles for a browser. PostgreSQL storage
 * is the separate entry point `@diaryx-sync/crdt/postgres`.
 */
export * from './paths';
export * from './doc-ids';
export * from './origins';
export * from './collect-update';
export * from './file-metadata';
export * from './attachments';
export * from './file-changes';
export * from './workspace-crdt';
export * from './text-diff';
export * from './body-doc';
export * from './body-doc-manager';
export * from './links';
export * from './frontmatter';
export * from './materialize';
export * from './markdown-style';
export * from './validation';
export * from './health-tracker';
export * from './workspace-repair';
export * from './history';
export type {
  CrdtStorage,
  StoredUpdate,
  UpdateAuthor,
  UpdateBatchEntry,
  UpdateMeta,
} from './storage/crdt-storage';
export * from './storage/memory-storage';
export * from './storage/workspace-guard';
export * from './storage/readable-state';
