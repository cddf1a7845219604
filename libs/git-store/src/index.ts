/**
 * @diaryx-sync/git-store: git history of workspaces with isomorphic-git — immutable loose objects
 * in S3, refs in PostgreSQL moved by compare-and-swap — plus dumb-HTTP serving and the
 * history job queue names/producer shared by the services.
 */
export * from './refs/schema';
export * from './refs/ref-store';
export { GITDIR } from './git/isogit-fs';
export * from './git/tree-builder';
export * from './git/commit-message';
export * from './git/workspace-repository';
export * from './git/dumb-http';
export * from './git-store';
export { DEFAULT_OBJECT_CACHE_BYTES } from './git/s3-object-backend';
export * from './history/health-store';
export * from './history/audit-log';
export * from './webhooks/webhook-store';
export * from './webhooks/webhook-delivery-log';
export * from './zip/zip-limits';
export * from './zip/workspace-zip';
export * from './workspace/stored-workspace';
export * from './workspace/attachment-files';
export * from './workspace/committed-attachments';
