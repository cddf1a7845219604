/**
 * @diaryx-sync/crdt/postgres: the PostgreSQL side of the document model (server only):
 * `PostgresStorage`, the numbered-migration runner and the crdt migrations, and the per-shard
 * fencing tokens checked by every batch insert. The root entry point stays free of `pg` and
 * Node built-ins so that it bundles for a browser.
 */
export * from './migrations';
export * from './storage/postgres-storage';
export * from './storage/crdt-migrations';
export * from './storage/shard-fences';
