/**
 * Cluster-wide view of the per-tenant limits (docs/architecture.md#properties, property 4), built from the gateway
 * heartbeats that every gateway already writes every 2 s (`connections_by_tenant`). It is refreshed
 * on a timer (one SCAN + MGET every `intervalMs`), never on the hot path: the connection limit
 * adds the OTHER gateways' last reported counts to this gateway's live count, and the tenant
 * update-rate buckets get `rate / liveGateways` and `burst / liveGateways`.
 *
 * The view is up to ~2 heartbeat intervals stale, so the limits are soft: gateways admitting
 * connections of one tenant at the same moment can overshoot by what they admit in that window.
 */
import type { InstanceHeartbeat } from '@diaryx-sync/bus';

/** Options of {@link ClusterTenantView}. */
export interface ClusterTenantViewOptions {
  /** This gateway's `GATEWAY_INSTANCE_ID` (its own record is excluded from the sums). */
  gatewayId: string;
  /** Reads the live gateway heartbeats (e.g. `listInstances(redis, prefix, 'gateway')`). */
  read: () => Promise<InstanceHeartbeat[]>;
  /** Called after every successful refresh (e.g. to re-divide the tenant rate buckets). */
  onRefresh?: (view: ClusterTenantView) => void;
  /** Called when a refresh fails; the previous view is kept. */
  onError?: (err: Error) => void;
}

/** See module doc. */
export class ClusterTenantView {
  private others = new Map<string, number>();
  private gateways = 1;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ClusterTenantViewOptions) {}

  /** Live gateways including this one (at least 1). */
  get liveGateways(): number {
    return this.gateways;
  }

  /** Open connections of `tenant` on the OTHER gateways, as of their last heartbeat. */
  otherConnections(tenant: string): number {
    return this.others.get(tenant) ?? 0;
  }

  /** Replaces the view with a snapshot of gateway heartbeat records. */
  apply(records: readonly InstanceHeartbeat[]): void {
    const others = new Map<string, number>();
    const ids = new Set<string>();
    for (const rec of records) {
      if (rec.kind !== 'gateway' || rec.id === this.opts.gatewayId) continue;
      ids.add(rec.id);
      const byTenant = rec.connections_by_tenant;
      if (!byTenant || typeof byTenant !== 'object') continue;
      for (const [tenant, n] of Object.entries(byTenant as Record<string, unknown>)) {
        if (typeof n === 'number' && Number.isFinite(n) && n > 0)
          others.set(tenant, (others.get(tenant) ?? 0) + n);
      }
    }
    this.others = others;
    this.gateways = ids.size + 1;
  }

  /** Reads the heartbeats once and applies them; on failure keeps the previous view. */
  async refresh(): Promise<void> {
    try {
      this.apply(await this.opts.read());
    } catch (err) {
      this.opts.onError?.(err as Error);
      return;
    }
    this.opts.onRefresh?.(this);
  }

  /** Refreshes every `intervalMs` (default 2000, the heartbeat period). */
  start(intervalMs = 2000): void {
    this.stop();
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  /** Stops refreshing. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * This gateway's share of a cluster-wide per-tenant budget: `total / liveGateways` (at least 1
 * gateway), never below `min` (a bucket smaller than one token would refuse every frame).
 */
export function gatewayShare(total: number, liveGateways: number, min = 0): number {
  return Math.max(min, total / Math.max(1, Math.floor(liveGateways)));
}
