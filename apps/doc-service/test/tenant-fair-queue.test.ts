/** The doc service's per-tenant fair inbox queue (docs/limits.md, "Fair share per tenant"). */
import { TenantFairQueue } from '../src/inbox/tenant-fair-queue';

const settle = () => new Promise<void>((r) => setTimeout(r, 20));

describe('TenantFairQueue', () => {
  it("serves a quiet tenant after at most one slice of a busy tenant's backlog", async () => {
    let clock = 0;
    const order: string[] = [];
    const q = new TenantFairQueue<{ tenant: string; cost: number }>({
      run: (item) => {
        clock += item.cost; // each item "uses" cost ms of CPU
        order.push(item.tenant);
      },
      sliceMs: 5,
      now: () => clock,
    });
    for (let i = 0; i < 1000; i++) q.push('busy', { tenant: 'busy', cost: 1 });
    q.push('quiet', { tenant: 'quiet', cost: 1 });
    await settle();
    while (q.size > 0) await settle();
    expect(order).toHaveLength(1001);
    expect(order.indexOf('quiet')).toBeLessThanOrEqual(5);
  });

  it('keeps FIFO order within a tenant', async () => {
    const seen: number[] = [];
    const q = new TenantFairQueue<number>({ run: (n) => seen.push(n), sliceMs: 0 });
    for (let i = 0; i < 50; i++) q.push('t', i);
    while (q.size > 0 || seen.length < 50) await settle();
    expect(seen).toEqual([...Array(50).keys()]);
  });

  it('refuses items beyond maxQueued for that tenant only', () => {
    const refused: string[] = [];
    const q = new TenantFairQueue<string>({
      run: () => undefined,
      maxQueued: 3,
      onRefused: (_item, tenant) => refused.push(tenant),
    });
    for (let i = 0; i < 5; i++) q.push('a', 'x');
    expect(q.push('b', 'y')).toBe(true);
    expect(refused).toEqual(['a', 'a']);
    q.clear();
  });
});
