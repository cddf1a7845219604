/**
 * Tells the history worker that a workspace changed (its docs received persisted updates), so it
 * schedules a quiet-period git commit (`HistoryQueues#touchWorkspace` of `@diaryx-sync/bus`).
 * Throttled per workspace: at most one touch per `intervalMs`, with a trailing touch so the quiet
 * period is measured from the last change.
 */
import { parseTenantKey, tenantKey } from '@diaryx-sync/bus';
import type { Logger } from '@diaryx-sync/runtime';

/** Marks a workspace as edited. */
export type TouchWorkspace = (tenant: string, workspace: string) => Promise<void>;

/** See module doc. */
export class WorkspaceToucher {
  private readonly last = new Map<string, number>();
  private readonly trailing = new Map<string, NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly touch: TouchWorkspace,
    private readonly logger: Logger,
    private readonly intervalMs = 1000,
  ) {}

  /** A doc of the workspace changed. */
  changed(tenant: string, workspace: string): void {
    const key = tenantKey(tenant, workspace);
    const now = Date.now();
    const since = now - (this.last.get(key) ?? 0);
    if (since >= this.intervalMs) {
      this.fire(key, tenant, workspace);
    } else if (!this.trailing.has(key)) {
      const t = setTimeout(() => {
        this.trailing.delete(key);
        this.fire(key, tenant, workspace);
      }, this.intervalMs - since);
      t.unref();
      this.trailing.set(key, t);
    }
  }

  /** Sends pending trailing touches now and waits for all touches. */
  async flush(): Promise<void> {
    for (const [key, t] of this.trailing) {
      clearTimeout(t);
      const { tenant, id } = parseTenantKey(key);
      this.fire(key, tenant, id);
    }
    this.trailing.clear();
    await Promise.allSettled([...this.inflight]);
  }

  private fire(key: string, tenant: string, workspace: string): void {
    this.last.set(key, Date.now());
    if (this.last.size > 100000) this.last.clear();
    const p = this.touch(tenant, workspace).catch((err: Error) =>
      this.logger.warn({ tenant, workspace, err: err.message }, 'could not mark workspace as changed'),
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }
}
