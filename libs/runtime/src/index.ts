/**
 * @diaryx-sync/runtime: process plumbing shared by every service (config, logs, connections to
 * Redis/PostgreSQL with fail-fast checks). Knows nothing of NestJS or of the document model.
 */
export * from './config';
export * from './logger';
export * from './connections';
export * from './redis-topology';
export * from './metrics';
export * from './ops-server';
export * from './metrics-server';
export * from './migration-settings';
export * from './lookup-cache';
