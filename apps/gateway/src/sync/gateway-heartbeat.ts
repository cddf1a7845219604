/**
 * The gateway's heartbeat record (docs/architecture.md#heartbeats-and-ports): written every 2 s with a ~6 s TTL at
 * `${prefix}:instance:gateway:{id}`, adding `connections`, `connections_by_tenant` and
 * `busiest_docs` (docs with the most client frames since the previous beat).
 */
import { startHeartbeat, type HeartbeatHandle } from '@diaryx-sync/bus';
import type { Logger, RedisClient } from '@diaryx-sync/runtime';
import type { SyncHub } from './sync-hub';
import type { TenantConnections } from './tenant-connections';

/** Starts the heartbeat; `stop()` deletes the record. */
export function startGatewayHeartbeat(opts: {
  redis: RedisClient;
  prefix: string;
  gatewayId: string;
  hub: SyncHub;
  tenants: TenantConnections;
  logger: Logger;
}): HeartbeatHandle {
  return startHeartbeat({
    redis: opts.redis,
    prefix: opts.prefix,
    kind: 'gateway',
    id: opts.gatewayId,
    extra: () => ({
      connections: opts.tenants.total,
      connections_by_tenant: opts.tenants.byTenant(),
      busiest_docs: opts.hub.takeBusiestDocs(10),
    }),
    onError: (err) => opts.logger.warn({ err: err.message }, 'heartbeat failed'),
  });
}
