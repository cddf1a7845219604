/**
 * Pure unit tests of the gateway's real-time building blocks (no I/O): the ack/retry tracker
 * behind the delivery guarantees, the rate-limit token bucket, the per-tenant connection limit
 * and the upgrade request parsing.
 */
import type { IncomingMessage } from 'node:http';
import { PendingUpdates } from '../src/sync/pending-updates';
import { TenantConnections } from '../src/sync/tenant-connections';
import { TenantRates } from '../src/sync/tenant-rates';
import { TokenBucket } from '../src/sync/token-bucket';
import { upgradeTarget, upgradeToken } from '../src/sync/upgrade-request';

function tracker(now: { t: number }) {
  const givenUp: string[] = [];
  const p = new PendingUpdates<string>(1000, 5000, { onGiveUp: (c) => givenUp.push(c) }, () => now.t);
  return { p, givenUp };
}

describe('PendingUpdates', () => {
  test('re-sends after the retry timeout until acknowledged', () => {
    const now = { t: 0 };
    const { p } = tracker(now);
    let sends = 0;
    const seq = p.allocateSeq();
    p.add(seq, 'c1', 3, 'doc', () => sends++);
    now.t = 999;
    expect(p.tick()).toBe(0);
    now.t = 1000;
    expect(p.tick()).toBe(1);
    expect(sends).toBe(1);
    p.ack(seq);
    now.t = 3000;
    expect(p.tick()).toBe(0);
    expect(p.size).toBe(0);
  });

  test('re-sends a shard at once when it changes owner, and only that shard', () => {
    const now = { t: 0 };
    const { p } = tracker(now);
    const sent: number[] = [];
    p.add(p.allocateSeq(), 'c1', 1, 'a', () => sent.push(1));
    p.add(p.allocateSeq(), 'c1', 2, 'b', () => sent.push(2));
    expect(p.resendShard(2)).toBe(1);
    expect(sent).toEqual([2]);
  });

  test('gives up after the bound: the connection is reported once and its entries dropped', () => {
    const now = { t: 0 };
    const { p, givenUp } = tracker(now);
    p.add(p.allocateSeq(), 'c1', 1, 'a', () => undefined);
    p.add(p.allocateSeq(), 'c1', 1, 'b', () => undefined);
    p.add(p.allocateSeq(), 'c2', 1, 'a', () => undefined);
    now.t = 4000;
    p.tick();
    now.t = 5000;
    p.tick();
    expect(givenUp.sort()).toEqual(['c1', 'c2']);
    expect(p.size).toBe(0);
  });

  test('a save barrier waits only for earlier frames of the same connection and doc', async () => {
    const now = { t: 0 };
    const { p } = tracker(now);
    const a = p.allocateSeq();
    p.add(a, 'c1', 1, 'doc', () => undefined);
    p.add(p.allocateSeq(), 'c2', 1, 'doc', () => undefined);
    p.add(p.allocateSeq(), 'c1', 1, 'other', () => undefined);
    let done = false;
    const barrier = p.barrier('c1', 'doc').then(() => (done = true));
    // A later frame of the same connection/doc does not hold the barrier.
    p.add(p.allocateSeq(), 'c1', 1, 'doc', () => undefined);
    await Promise.resolve();
    expect(done).toBe(false);
    p.ack(a);
    await barrier;
    expect(done).toBe(true);
  });

  test('drain waits for critical entries only', async () => {
    const now = { t: 0 };
    const { p } = tracker(now);
    p.add(p.allocateSeq(), 'c1', 1, 'doc', () => undefined, false);
    await p.whenIdle(); // a pending SyncStep1 does not hold the drain
    const u = p.allocateSeq();
    p.add(u, 'c1', 1, 'doc', () => undefined, true);
    let idle = false;
    const w = p.whenIdle().then(() => (idle = true));
    await Promise.resolve();
    expect(idle).toBe(false);
    p.ack(u);
    await w;
    expect(idle).toBe(true);
  });

  test('retrySoon schedules an early re-send when no owner listened', () => {
    const now = { t: 0 };
    const { p } = tracker(now);
    let sends = 0;
    const seq = p.allocateSeq();
    p.add(seq, 'c1', 1, 'doc', () => sends++);
    p.retrySoon(seq, 250);
    now.t = 250;
    p.tick();
    expect(sends).toBe(1);
  });
});

describe('TokenBucket', () => {
  test('allows the burst, then the sustained rate', () => {
    const now = { t: 0 };
    const b = new TokenBucket(10, 5, () => now.t);
    for (let i = 0; i < 5; i++) expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
    now.t = 100; // +1 token at 10/s
    expect(b.take()).toBe(true);
    expect(b.take()).toBe(false);
  });
});

describe('TenantConnections', () => {
  test('enforces the per-tenant maximum independently per tenant', () => {
    const t = new TenantConnections(2);
    expect(t.tryAcquire('a')).toBe(true);
    expect(t.tryAcquire('a')).toBe(true);
    expect(t.tryAcquire('a')).toBe(false);
    expect(t.tryAcquire('b')).toBe(true);
    t.release('a');
    expect(t.tryAcquire('a')).toBe(true);
    expect(t.byTenant()).toEqual({ a: 2, b: 1 });
    expect(t.total).toBe(3);
  });
});

describe('TenantRates', () => {
  test('one bucket per tenant, shared by its connections; 0 means unlimited', () => {
    const now = { t: 0 };
    const rates = new TenantRates(10, 3, () => now.t);
    expect([rates.take('a'), rates.take('a'), rates.take('a'), rates.take('a')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(rates.take('b')).toBe(true);
    now.t = 100;
    expect(rates.take('a')).toBe(true);
    const unlimited = new TenantRates(0, 1, () => now.t);
    for (let i = 0; i < 100; i++) expect(unlimited.take('a')).toBe(true);
  });
});

describe('upgrade requests', () => {
  const req = (url: string, authorization?: string) =>
    ({ url, headers: { authorization } }) as unknown as IncomingMessage;

  test('routes /sync2 and /yjs/{docId} (URL-decoded), ignores other paths', () => {
    expect(upgradeTarget(req('/sync2?token=x'))).toEqual({ endpoint: 'sync2' });
    expect(upgradeTarget(req('/yjs/body%3Aws%2Fa%20b.md?token=x'))).toEqual({
      endpoint: 'yjs',
      docId: 'body:ws/a b.md',
    });
    expect(upgradeTarget(req('/yjs/%E0%A4%A'))).toEqual({ endpoint: 'yjs', docId: null });
    expect(upgradeTarget(req('/other'))).toBeNull();
  });

  test('takes the token from ?token= or a Bearer header', () => {
    expect(upgradeToken(req('/sync2?token=abc'))).toBe('abc');
    expect(upgradeToken(req('/sync2', 'Bearer xyz'))).toBe('xyz');
    expect(upgradeToken(req('/sync2'))).toBeUndefined();
  });
});
