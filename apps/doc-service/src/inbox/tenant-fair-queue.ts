/**
 * Per-tenant fair scheduling of a doc service's inbox work (docs/limits.md, "Fair share per
 * tenant"). Every inbox envelope is queued under its tenant; the queues are served round-robin,
 * each tenant for at most `sliceMs` of CPU per turn, and the event loop is yielded after every
 * round, so PostgreSQL answers, lease renewals and other tenants' envelopes never wait behind one
 * tenant's backlog: a tenant's load raises its own latency, not the others'.
 *
 * Within one tenant the order is FIFO, which keeps the per-document (and per-connection) order
 * the doc service relies on. A tenant with more than `maxQueued` envelopes waiting gets new ones
 * refused (`onRefused`: the doc service answers `unavailable`, the gateway re-sends later).
 */

/** Options of {@link TenantFairQueue}. */
export interface TenantFairQueueOptions<T> {
  /** Runs one item (synchronously; its asynchronous continuations are not counted). */
  run: (item: T) => void;
  /** CPU budget of one tenant per turn, ms (default 5). */
  sliceMs?: number;
  /** Most items waiting per tenant; more are refused (default 10 000). */
  maxQueued?: number;
  /** An item refused because its tenant's queue was full. */
  onRefused?: (item: T, tenant: string) => void;
  /** Observes a tenant's queue depth after a change (gauge); 0 when it emptied. */
  onDepth?: (tenant: string, depth: number) => void;
  /** Reports an item that threw (the queue keeps going). */
  onError?: (err: unknown) => void;
  /** Clock in ms (default `performance.now`). */
  now?: () => number;
}

/** See module doc. */
export class TenantFairQueue<T> {
  /** Waiting items per tenant; insertion order of the map = round-robin order. */
  private readonly queues = new Map<string, T[]>();
  private scheduled = false;
  private readonly sliceMs: number;
  private readonly maxQueued: number;
  private readonly now: () => number;

  constructor(private readonly opts: TenantFairQueueOptions<T>) {
    this.sliceMs = opts.sliceMs ?? 5;
    this.maxQueued = opts.maxQueued ?? 10_000;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Items waiting in all queues. */
  get size(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Queues `item` for `tenant`; false (and `onRefused`) when the tenant's queue is full. */
  push(tenant: string, item: T): boolean {
    let q = this.queues.get(tenant);
    if (!q) this.queues.set(tenant, (q = []));
    if (q.length >= this.maxQueued) {
      this.opts.onRefused?.(item, tenant);
      return false;
    }
    q.push(item);
    if (q.length % 100 === 1) this.opts.onDepth?.(tenant, q.length);
    this.schedule();
    return true;
  }

  /** Drops everything waiting (shutdown). */
  clear(): void {
    for (const tenant of this.queues.keys()) this.opts.onDepth?.(tenant, 0);
    this.queues.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.round());
  }

  /** One round: every tenant with work gets one turn of at most `sliceMs`. */
  private round(): void {
    this.scheduled = false;
    for (const [tenant, q] of [...this.queues]) {
      const until = this.now() + this.sliceMs;
      while (q.length > 0) {
        const item = q.shift() as T;
        try {
          this.opts.run(item);
        } catch (err) {
          this.opts.onError?.(err);
        }
        if (this.now() >= until) break;
      }
      if (q.length === 0) {
        this.queues.delete(tenant);
        this.opts.onDepth?.(tenant, 0);
      } else {
        // served last in the next round: move to the back of the rotation
        this.queues.delete(tenant);
        this.queues.set(tenant, q);
        this.opts.onDepth?.(tenant, q.length);
      }
    }
    if (this.queues.size > 0) this.schedule();
  }
}
