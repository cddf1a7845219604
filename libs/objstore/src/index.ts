/**
 * @diaryx-sync/objstore: object storage over S3 (`minio` client) and tenant-qualified key
 * builders. The embedded `s3rver` for tests and local runs is a separate entry point,
 * `@diaryx-sync/objstore/embedded` (s3rver is a development dependency only).
 */
export * from './object-storage';
export * from './keys';
export * from './attachment-store';
