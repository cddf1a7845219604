/** @diaryx-sync/protocol: wire codec, sync logic, SyncSession and SyncClient. */
export * from './client/index';
