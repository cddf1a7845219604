/**
 * Counts open sockets per tenant on this gateway and enforces the per-tenant maximum across the
 * cluster: a new connection is refused when this gateway's live count plus the other gateways'
 * counts (from their heartbeats, see `ClusterTenantView`) reaches the maximum.
 */
export class TenantConnections {
  private readonly counts = new Map<string, number>();

  /**
   * @param max connections allowed per tenant in the cluster, 0 for unlimited.
   * @param otherGateways the tenant's open connections on the other gateways (default none).
   */
  constructor(
    private readonly max: number,
    private readonly otherGateways: (tenant: string) => number = () => 0,
  ) {}

  /** Reserves a slot for `tenant`; false when the tenant is at its maximum. */
  tryAcquire(tenant: string): boolean {
    const n = this.counts.get(tenant) ?? 0;
    if (this.max > 0 && n + this.otherGateways(tenant) >= this.max) return false;
    this.counts.set(tenant, n + 1);
    return true;
  }

  /** Frees a slot taken with {@link tryAcquire}. */
  release(tenant: string): void {
    const n = (this.counts.get(tenant) ?? 0) - 1;
    if (n <= 0) this.counts.delete(tenant);
    else this.counts.set(tenant, n);
  }

  /** Open connections of all tenants on this gateway. */
  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** `{tenant: open connections on this gateway}` for the heartbeat. */
  byTenant(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
