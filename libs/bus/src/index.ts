/**
 * @diaryx-sync/bus: the Redis contract between gateways, doc services and the history worker:
 * channel/key names, shard routing, the binary envelope codec (see `envelope.ts` for the full
 * message flow), `ClusterClient` for server-side forward updates, instance heartbeats, and the
 * BullMQ history job contracts (`jobs/`: queue names, payloads, the `HistoryQueues` producer).
 */
export * from './names';
export * from './shard';
export * from './envelope';
export * from './bus-pubsub';
export * from './payload-store';
export * from './cluster-client';
export * from './instances';
export * from './jobs/job-types';
export * from './jobs/history-queues';
export * from './jobs/webhooks';
export * from './jobs/attachment-gc';
