/**
 * Per-tenant update-rate limit on this gateway (ARCHITECTURE.md property 4): one token bucket
 * per tenant, shared by all of the tenant's connections. Idle buckets are forgotten.
 */
import { TokenBucket } from './token-bucket';

const IDLE_FORGET_MS = 60_000;

/** See module doc. */
export class TenantRates {
  private readonly buckets = new Map<string, { bucket: TokenBucket; lastUsed: number }>();
  private lastSweep: number;

  /** @param rate tokens per second per tenant (0 = unlimited); @param burst bucket size. */
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweep = now();
  }

  /** Takes one token of `tenant`'s bucket; false when the tenant exceeds its rate. */
  take(tenant: string): boolean {
    if (this.rate === 0) return true;
    const t = this.now();
    let entry = this.buckets.get(tenant);
    if (!entry) {
      entry = { bucket: new TokenBucket(this.rate, this.burst, this.now), lastUsed: t };
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
