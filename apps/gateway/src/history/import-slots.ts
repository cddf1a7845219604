/**
 * Admission of zip imports on one gateway: at most `perGateway` imports at a time, and at most
 * `perTenant` of them for one tenant. An import takes a slot before its body is read and gives it
 * back when it is answered, so a burst of uploads costs at most that many temp files and zip
 * scans; the rest are refused at once (429 with `Retry-After`, docs/protocol.md#http-api).
 */
export class ImportSlots {
  private readonly byTenant = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly perGateway: number,
    private readonly perTenant: number,
  ) {}

  /** A release function when a slot is free for `tenant`, else `null` (nothing taken). */
  tryAcquire(tenant: string): (() => void) | null {
    const mine = this.byTenant.get(tenant) ?? 0;
    if (this.total >= this.perGateway || mine >= this.perTenant) return null;
    this.total += 1;
    this.byTenant.set(tenant, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      const left = (this.byTenant.get(tenant) ?? 1) - 1;
      if (left === 0) this.byTenant.delete(tenant);
      else this.byTenant.set(tenant, left);
    };
  }

  /** Imports running now (all tenants). */
  get active(): number {
    return this.total;
  }
}
