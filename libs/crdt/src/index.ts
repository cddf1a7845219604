/** @diaryx-sync/crdt: the Yjs document model of a Diaryx workspace. */
export {};
