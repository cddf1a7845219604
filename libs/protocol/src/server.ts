/**
 * `@diaryx-sync/protocol/server`: the server side of the protocol, per document: the
 * {@link DocSyncHandler} (answer, apply, viewer rule, awareness; what happened, as data), the
 * pending-update budget and the strict update inspection it relies on. Used by the doc service and
 * the protocol's test servers; clients never need it.
 */
export * from './doc-sync-handler';
export * from './pending-budget';
export * from './update-inspection';
