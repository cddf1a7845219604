/**
 * Admission of zip imports: at most `perGateway` imports at a time on this gateway, and at most
 * `perTenant` for one tenant — on this gateway, and across the cluster when
 * {@link TenantImportLeases} are given. An import takes a slot before its body is read and gives
 * it back when it is answered, so a burst of uploads costs at most that many temp files and zip
 * scans; the rest are refused at once (429 with `Retry-After`, docs/protocol.md, "Zip imports").
 */
import type { TenantImportLeases } from './tenant-import-leases';

export class ImportSlots {
  private readonly byTenant = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly perGateway: number,
    private readonly perTenant: number,
    private readonly cluster?: TenantImportLeases,
  ) {}

  /** A release function when a slot is free for `tenant`, else `null` (nothing taken). */
  async tryAcquire(tenant: string): Promise<(() => Promise<void>) | null> {
    const releaseLocal = this.tryAcquireLocal(tenant);
    if (!releaseLocal) return null;
    let releaseCluster: (() => Promise<void>) | null = null;
    try {
      releaseCluster = this.cluster ? await this.cluster.tryAcquire(tenant) : async () => undefined;
    } catch (err) {
      releaseLocal();
      throw err;
    }
    if (!releaseCluster) {
      releaseLocal();
      return null;
    }
    const cluster = releaseCluster;
    return async () => {
      releaseLocal();
      await cluster();
    };
  }

  /** Imports running now on this gateway (all tenants). */
  get active(): number {
    return this.total;
  }

  private tryAcquireLocal(tenant: string): (() => void) | null {
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
}
