/**
 * Per-tenant update-rate limit (docs/architecture.md#properties, property 4): one token bucket per tenant on this
 * gateway, shared by all of the tenant's connections. The configured rate and burst are for the
 * whole cluster; each gateway's buckets get `1 / liveGateways` of them ({@link setLiveGateways},
 * fed from the heartbeats by `ClusterTenantView`). Idle buckets are forgotten.
 */
import { gatewayShare } from './cluster-tenant-view';
import { TokenBucket } from './token-bucket';

const IDLE_FORGET_MS = 60_000;

/** See module doc. */
export class TenantRates {
  private readonly buckets = new Map<string, { bucket: TokenBucket; lastUsed: number }>();
  private lastSweep: number;
  private gateways = 1;

  /** @param rate tokens per second per tenant in the cluster (0 = unlimited); @param burst bucket size. */
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweep = now();
  }

  /** This gateway's rate share per tenant (tokens/s). */
  get gatewayRate(): number {
    return gatewayShare(this.rate, this.gateways);
  }

  /** This gateway's burst share per tenant (at least 1 token). */
  get gatewayBurst(): number {
    return gatewayShare(this.burst, this.gateways, 1);
  }

  /** Sets the number of live gateways sharing the budget (min 1); re-divides existing buckets. */
  setLiveGateways(n: number): void {
    const next = Math.max(1, Math.floor(n));
    if (next === this.gateways) return;
    this.gateways = next;
    for (const e of this.buckets.values()) e.bucket.setLimits(this.gatewayRate, this.gatewayBurst);
  }

  /** Takes one token of `tenant`'s bucket; false when the tenant exceeds its rate. */
  take(tenant: string): boolean {
    if (this.rate === 0) return true;
    const t = this.now();
    let entry = this.buckets.get(tenant);
    if (!entry) {
      entry = { bucket: new TokenBucket(this.gatewayRate, this.gatewayBurst, this.now), lastUsed: t };
      this.buckets.set(tenant, entry);
    }
    entry.lastUsed = t;
    if (t - this.lastSweep > IDLE_FORGET_MS) this.sweep(t);
    return entry.bucket.take();
  }

  private sweep(t: number): void {
    this.lastSweep = t;
    for (const [tenant, e] of this.buckets) if (t - e.lastUsed > IDLE_FORGET_MS) this.buckets.delete(tenant);
  }
}
