/**
 * @diaryx-sync/loadtest: load testing of Diaryx Sync deployments (`diaryx-sync loadtest`) and the
 * peer comparison (`npm run bench:peers`). Scenarios are reusable: open a {@link Target}, then
 * `runScenario(ctx, name, knobs)` or the scenario functions themselves.
 */
export * from './result';
export * from './run';
export * from './stats/percentiles';
export * from './stats/loss';
export * from './stats/saturation';
export * from './report/html';
export * from './report/summary';
export * from './scenarios/context';
export {
  runFanout,
  runFailover,
  FANOUT_DEFAULTS,
  FAILOVER_DEFAULTS,
  type FanoutOptions,
  type FailoverOptions,
} from './scenarios/fanout';
export { runConnections, CONNECTIONS_DEFAULTS, type ConnectionsOptions } from './scenarios/connections';
export { runIngest, INGEST_DEFAULTS, type IngestOptions } from './scenarios/ingest';
export { runColdload, COLDLOAD_DEFAULTS, type ColdloadOptions } from './scenarios/coldload';
export { runJoinstorm, JOINSTORM_DEFAULTS, type JoinstormOptions } from './scenarios/joinstorm';
export type { Target } from './target/target';
export { startLocalCluster, LOCAL_STACK_ENV } from './target/local-cluster';
export { connectRemote } from './target/remote';
export { startPeer, PEER_KINDS, type PeerKind } from './peers/peer-target';
export { Wire, WIRE_PROTOCOLS, type WireProtocol, type WireEndpoint } from './wire/wire';
