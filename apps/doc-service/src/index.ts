/**
 * @diaryx-sync/doc-service: shard owners of the cluster. Exported so that tests (and tools) can
 * run doc services in-process; `main.ts` is the process entry point.
 */
export * from './doc-service';
export * from './config';
export * from './docs/doc-sync';
export * from './docs/doc-registry';
export * from './docs/loaded-doc';
export * from './persistence/group-commit';
export * from './persistence/compaction';
export * from './persistence/workspace-directory';
export * from './presence/presence-tracker';
export * from './shards/shard-leases';
export * from './shards/lease-scripts';
