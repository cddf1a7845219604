/**
 * Pure unit tests of the cluster-wide per-tenant limits: the heartbeat-based view
 * (`ClusterTenantView`), the connection sum in `TenantConnections` and the rate/burst share of
 * `TenantRates`/`TokenBucket` when several gateways are live.
 */
import type { InstanceHeartbeat } from '@diaryx-sync/bus';
import { ClusterTenantView, gatewayShare } from '../src/sync/cluster-tenant-view';
import { TenantConnections } from '../src/sync/tenant-connections';
import { TenantRates } from '../src/sync/tenant-rates';
import { TokenBucket } from '../src/sync/token-bucket';

const beat = (id: string, byTenant: Record<string, unknown>, kind = 'gateway'): InstanceHeartbeat =>
  ({
    id,
    kind,
    started_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    connections_by_tenant: byTenant,
  }) as InstanceHeartbeat;

describe('ClusterTenantView', () => {
  test('sums the OTHER gateways, counts live gateways including itself', () => {
    const view = new ClusterTenantView({ gatewayId: 'me', read: async () => [] });
    expect(view.liveGateways).toBe(1);
    expect(view.otherConnections('t')).toBe(0);
    view.apply([
      beat('a', { t: 2, u: 1 }),
      beat('b', { t: 1 }),
      beat('me', { t: 50 }), // own record: ignored (the live count is used instead)
      beat('ds-1', { t: 7 }, 'doc-service'),
    ]);
    expect(view.liveGateways).toBe(3);
    expect(view.otherConnections('t')).toBe(3);
    expect(view.otherConnections('u')).toBe(1);
    expect(view.otherConnections('v')).toBe(0);
  });

  test('ignores malformed counts and keeps working without connections_by_tenant', () => {
    const view = new ClusterTenantView({ gatewayId: 'me', read: async () => [] });
    view.apply([
      beat('a', { t: 'x', u: -3, v: Number.NaN, w: 2 }),
      { id: 'b', kind: 'gateway', started_at: '', updated_at: '' },
    ]);
    expect(view.liveGateways).toBe(3);
    expect(['t', 'u', 'v', 'w'].map((t) => view.otherConnections(t))).toEqual([0, 0, 0, 2]);
  });

  test('refresh applies the read snapshot; a failed read keeps the previous view', async () => {
    let next: () => Promise<InstanceHeartbeat[]> = async () => [beat('a', { t: 4 })];
    const errors: string[] = [];
    const refreshed: number[] = [];
    const view = new ClusterTenantView({
      gatewayId: 'me',
      read: () => next(),
      onRefresh: (v) => refreshed.push(v.liveGateways),
      onError: (e) => errors.push(e.message),
    });
    await view.refresh();
    expect(view.otherConnections('t')).toBe(4);
    next = async () => {
      throw new Error('redis down');
    };
    await view.refresh();
    expect(view.otherConnections('t')).toBe(4);
    expect(errors).toEqual(['redis down']);
    expect(refreshed).toEqual([2]);
    next = async () => []; // the other gateway is gone
    await view.refresh();
    expect(view.otherConnections('t')).toBe(0);
    expect(view.liveGateways).toBe(1);
  });
});

describe('gatewayShare', () => {
  test('divides by the live gateways (min 1) and respects the floor', () => {
    expect(gatewayShare(5000, 2)).toBe(2500);
    expect(gatewayShare(5000, 0)).toBe(5000);
    expect(gatewayShare(5000, -1)).toBe(5000);
    expect(gatewayShare(10, 4)).toBe(2.5);
    expect(gatewayShare(1, 4, 1)).toBe(1);
  });
});

describe('TenantConnections across the cluster', () => {
  test('local count plus the other gateways reaching the limit refuses the tenant only', () => {
    const others: Record<string, number> = { a: 2 };
    const t = new TenantConnections(3, (tenant) => others[tenant] ?? 0);
    expect(t.tryAcquire('a')).toBe(true); // 1 + 2 = 3 open
    expect(t.tryAcquire('a')).toBe(false);
    expect(t.tryAcquire('b')).toBe(true);
    others.a = 1; // a connection closed elsewhere
    expect(t.tryAcquire('a')).toBe(true);
    expect(t.tryAcquire('a')).toBe(false);
    expect(t.byTenant()).toEqual({ a: 2, b: 1 }); // the heartbeat reports local counts only
  });

  test('0 means unlimited whatever the other gateways hold', () => {
    const t = new TenantConnections(0, () => 1_000_000);
    for (let i = 0; i < 10; i++) expect(t.tryAcquire('a')).toBe(true);
  });
});

describe('TenantRates across the cluster', () => {
  test('rate and burst are divided by the live gateways, existing buckets included', () => {
    const now = { t: 0 };
    const rates = new TenantRates(100, 8, () => now.t);
    rates.setLiveGateways(2);
    expect(rates.gatewayRate).toBe(50);
    expect(rates.gatewayBurst).toBe(4);
    const taken = () => {
      let n = 0;
      while (rates.take('a')) n++;
      return n;
    };
    expect(taken()).toBe(4); // burst 8 / 2
    now.t = 100; // 0.1 s at 50/s = 5 tokens, capped at the burst of 4
    expect(taken()).toBe(4);
    rates.setLiveGateways(4); // existing bucket shrinks: burst 2, 25/s
    now.t = 1100;
    expect(taken()).toBe(2);
    rates.setLiveGateways(0); // min 1: the whole budget
    expect(rates.gatewayRate).toBe(100);
    now.t = 1200; // 0.1 s at 100/s = 10 tokens, capped at 8
    expect(taken()).toBe(8);
  });

  test('the burst share never drops below one token', () => {
    const rates = new TenantRates(10, 3, () => 0);
    rates.setLiveGateways(10);
    expect(rates.gatewayBurst).toBe(1);
    expect(rates.take('a')).toBe(true);
    expect(rates.take('a')).toBe(false);
  });
});

describe('TokenBucket.setLimits', () => {
  test('refills at the old rate up to now, then applies the new limits', () => {
    const now = { t: 0 };
    const b = new TokenBucket(10, 10, () => now.t);
    for (let i = 0; i < 10; i++) b.take();
    expect(b.take()).toBe(false);
    now.t = 500; // +5 at 10/s
    b.setLimits(1, 3); // capped to the new burst
    let n = 0;
    while (b.take()) n++;
    expect(n).toBe(3);
    now.t = 1500; // +1 at 1/s
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
  });
});
