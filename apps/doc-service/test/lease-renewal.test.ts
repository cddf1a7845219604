/**
 * Lease renewal under load (docs/fencing.md "Renewal and overload"): renewals run on their own
 * timer, so a slow rebalance round (a takeover waiting for the database fence) never lets the
 * instance's other leases expire; an overloaded instance hands shards over one at a time and
 * the others adopt them, nothing is lost by accident. On a worker thread, renewal survives a
 * main thread blocked for longer than the TTL.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { shardLeaseKey } from '@diaryx-sync/bus';
import { ShardLeaseManager, type ShardLeaseOptions } from '@diaryx-sync/doc-service';
import { createTestEnv, REDIS_URL, sleep, waitFor, type TestEnv } from './helpers';

jest.setTimeout(60000);

const SHARDS = 6;

describe('shard lease renewal (real Redis)', () => {
  let env: TestEnv;
  const managers: ShardLeaseManager[] = [];
  const lost: Record<string, number[]> = {};

  const manager = (id: string, extra: Partial<ShardLeaseOptions> = {}) => {
    lost[id] = [];
    const m = new ShardLeaseManager({
      redis: env.redis,
      prefix: env.prefix,
      shardCount: SHARDS,
      instanceId: id,
      logger: env.logger,
      ttlMs: 1000,
      renewMs: 200,
      handlers: {
        onAcquired: async () => undefined,
        onReleasing: async () => undefined,
        onLost: (s) => lost[id]!.push(s),
      },
      ...extra,
    });
    managers.push(m);
    return m;
  };

  beforeEach(async () => {
    env = await createTestEnv();
  });
  afterEach(async () => {
    for (const m of managers.splice(0)) m.abandon();
    await env.close();
  });

  it('keeps its leases while a takeover waits 2.5 s for the database fence (longer than the TTL)', async () => {
    let slowFence = false;
    const a = manager('a', {
      raiseFence: async (_shard, token) => {
        if (slowFence) await sleep(2500);
        return token;
      },
    });
    await a.start();
    const b = manager('b');
    await b.start();
    await waitFor(() => a.ownedShards().length === 3 && b.ownedShards().length === 3, 8000, '3/3 split');
    const mine = a.ownedShards();

    slowFence = true;
    b.abandon(); // crash: a takes b's shards, each acquisition waits 2.5 s
    await waitFor(() => a.ownedShards().length === SHARDS, 10000, 'takeover by a');
    expect(lost.a).toEqual([]); // its own leases were renewed all along
    for (const s of mine) expect(a.serves(s)).toBe(true);
  });

  it('hands shards over one by one when overloaded; the other instance adopts them; nothing is lost', async () => {
    let delay = 0;
    let delayB = 0;
    const a = manager('a', { loadProbe: () => delay, overloadDelayMs: 100, overloadRounds: 2 });
    const b = manager('b', { loadProbe: () => delayB, overloadDelayMs: 100, overloadRounds: 2 });
    await a.start();
    await b.start();
    await waitFor(() => a.ownedShards().length === 3 && b.ownedShards().length === 3, 8000, '3/3 split');

    // the whole machine is slow (both loops delayed): no reason to move shards
    delay = 500;
    delayB = 500;
    await sleep(2500);
    expect([a.ownedShards().length, b.ownedShards().length]).toEqual([3, 3]);

    delayB = 0; // only a is saturated
    await waitFor(() => a.ownedShards().length <= 1, 20000, 'a to shed shards');
    await waitFor(
      () => a.ownedShards().length + b.ownedShards().length === SHARDS,
      10000,
      'every shard served',
    );
    expect(b.ownedShards().length).toBeGreaterThan(3); // its target grew by what a shed
    expect(lost).toEqual({ a: [], b: [] }); // handed over, never lost

    // alone, an overloaded instance keeps everything (there is nobody to hand over to)
    b.abandon();
    await waitFor(() => a.ownedShards().length === SHARDS, 10000, 'a alone owns every shard');
  });
});

describe('lease renewal on a worker thread (compiled worker from dist)', () => {
  const workerFile = join(__dirname, '../dist/shards/lease-renewal-worker.js');
  let env: TestEnv;
  const managers: ShardLeaseManager[] = [];

  beforeAll(async () => {
    if (!existsSync(workerFile)) throw new Error(`${workerFile} is missing: run "npm run build" first`);
    env = await createTestEnv();
  });
  afterAll(async () => {
    for (const m of managers) m.abandon();
    await sleep(100);
    await env.close();
  });

  it('keeps every lease while the main thread is blocked for 3 s (TTL 1 s)', async () => {
    const lost: number[] = [];
    const m = new ShardLeaseManager({
      redis: env.redis,
      prefix: env.prefix,
      shardCount: SHARDS,
      instanceId: 'threaded',
      logger: env.logger,
      ttlMs: 1000,
      renewMs: 200,
      handlers: {
        onAcquired: async () => undefined,
        onReleasing: async () => undefined,
        onLost: (s) => lost.push(s),
      },
      renewalThread: { redis: { kind: 'single', url: REDIS_URL }, workerFile },
    });
    managers.push(m);
    await m.start();
    expect(m.ownedShards()).toHaveLength(SHARDS);
    await waitFor(() => m.renewingOnThread, 20000, 'the renewal thread renewing');

    const until = Date.now() + 3000;
    while (Date.now() < until) {
      // long synchronous document work: no timer of this thread runs
    }
    await sleep(300);
    expect(lost).toEqual([]);
    expect(m.ownedShards()).toHaveLength(SHARDS);
    for (let s = 0; s < SHARDS; s++) expect(m.serves(s)).toBe(true);
    // Redis agrees: every lease is still this instance's
    const values = await env.redis.mget(
      ...Array.from({ length: SHARDS }, (_, s) => shardLeaseKey(env.prefix, s)),
    );
    expect(values.every((v) => v?.startsWith('threaded:'))).toBe(true);
  });
});
