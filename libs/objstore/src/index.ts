/**
 * @diaryx-sync/objstore: object storage over S3 (`minio` client), tenant-qualified key builders,
 * and an embedded `s3rver` for tests and local runs.
 */
export * from './object-storage';
export * from './keys';
export * from './embedded-s3';
