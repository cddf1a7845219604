/** Counts open sockets per tenant on this gateway and enforces the per-tenant maximum. */
export class TenantConnections {
  private readonly counts = new Map<string, number>();

  /** @param max connections allowed per tenant, 0 for unlimited. */
  constructor(private readonly max: number) {}

  /** Reserves a slot for `tenant`; false when the tenant is at its maximum. */
  tryAcquire(tenant: string): boolean {
    const n = this.counts.get(tenant) ?? 0;
    if (this.max > 0 && n >= this.max) return false;
    this.counts.set(tenant, n + 1);
    return true;
  }

  /** Frees a slot taken with {@link tryAcquire}. */
  release(tenant: string): void {
    const n = (this.counts.get(tenant) ?? 0) - 1;
    if (n <= 0) this.counts.delete(tenant);
    else this.counts.set(tenant, n);
  }

  /** Open connections of all tenants. */
  get total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  /** `{tenant: open connections}` for the heartbeat. */
  byTenant(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}
