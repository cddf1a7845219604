import { shardFenceKey, shardLeaseKey } from '@diaryx-sync/bus';
import { ShardLeaseManager } from '@diaryx-sync/doc-service';
import { createTestEnv, sleep, waitFor, type TestEnv } from './helpers';

// integration test against real services: the default 5 s per test is too tight on a busy machine
jest.setTimeout(30000);

const SHARDS = 12;

describe('shard leases (real Redis)', () => {
  let env: TestEnv;
  const managers: ShardLeaseManager[] = [];
  const lost: Record<string, number[]> = {};
  const released: Record<string, number[]> = {};

  const manager = (id: string, opts: { ttlMs?: number; renewMs?: number } = {}) => {
    lost[id] = [];
    released[id] = [];
    const m = new ShardLeaseManager({
      redis: env.redis,
      prefix: env.prefix,
      shardCount: SHARDS,
      instanceId: id,
      logger: env.logger,
      ttlMs: opts.ttlMs ?? 1500,
      renewMs: opts.renewMs ?? 250,
      handlers: {
        onAcquired: async () => undefined,
        onReleasing: async (s) => {
          released[id]!.push(s);
        },
        onLost: (s) => lost[id]!.push(s),
      },
    });
    managers.push(m);
    return m;
  };

  /** Lease holders from Redis: shard → instance id. */
  const holders = async () => {
    const values = await env.redis.mget(
      ...Array.from({ length: SHARDS }, (_, s) => shardLeaseKey(env.prefix, s)),
    );
    return values.map((v) => (v ? v.slice(0, v.lastIndexOf(':')) : null));
  };

  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => {
    for (const m of managers) m.abandon();
    await env.close();
  });

  it('one instance takes every shard; joiners rebalance evenly; no shard has two owners', async () => {
    const a = manager('a');
    await a.start();
    expect(a.ownedShards()).toHaveLength(SHARDS);

    const b = manager('b');
    await b.start();
    await waitFor(() => a.ownedShards().length === 6 && b.ownedShards().length === 6, 8000, '6/6 split');
    const c = manager('c');
    await c.start();
    await waitFor(() => [a, b, c].every((m) => m.ownedShards().length === 4), 8000, '4/4/4 split');
    // Redis agrees with every instance's view, and sets are disjoint.
    const h = await holders();
    for (const [id, m] of [
      ['a', a],
      ['b', b],
      ['c', c],
    ] as const) {
      for (const s of m.ownedShards()) expect(h[s]).toBe(id);
    }
    expect(new Set([...a.ownedShards(), ...b.ownedShards(), ...c.ownedShards()]).size).toBe(SHARDS);
    expect(Object.values(lost).flat()).toEqual([]); // handover was graceful, nothing was lost
    expect(released.a!.length).toBeGreaterThan(0);

    // graceful leave: c releases, a and b take its shards
    await c.stop();
    await waitFor(
      () => a.ownedShards().length === 6 && b.ownedShards().length === 6,
      8000,
      'rebalance after leave',
    );
  });

  it('takes over the shards of a crashed instance within a few seconds', async () => {
    const [a, b] = managers;
    const crashed = b!.ownedShards();
    expect(crashed.length).toBeGreaterThan(0);
    b!.abandon(); // no release: its leases must expire
    const t0 = Date.now();
    await waitFor(() => a!.ownedShards().length === SHARDS, 10000, 'takeover');
    const took = Date.now() - t0;
    expect(took).toBeLessThan(4000); // ttl 1.5 s + membership expiry + a tick
    const h = await holders();
    expect(h.every((x) => x === 'a')).toBe(true);
  });

  it('fencing: a stolen lease is reported lost at the next renew and fails the fence check from then on', async () => {
    const a = managers[0]!;
    const shard = a.ownedShards()[0]!;
    const token = a.tokenOf(shard)!;
    expect(a.checkFence([shard])).toEqual(new Set([shard]));
    expect(a.checkFence([shard], new Map([[shard, token + 1]]))).toEqual(new Set());
    // another instance takes the lease with a higher token (as after an expiry)
    const thiefToken = await env.redis.incr(shardFenceKey(env.prefix, shard));
    expect(thiefToken).toBe(token + 1);
    await env.redis.set(shardLeaseKey(env.prefix, shard), `thief:${thiefToken}`, 'PX', 60000);
    // until then the database fence refuses its writes (database-fence.test.ts)
    await a.tick();
    expect(a.checkFence([shard])).toEqual(new Set());
    expect(a.checkFence([shard], new Map([[shard, thiefToken]]))).toEqual(new Set());
    expect(lost.a).toContain(shard);
    expect(a.serves(shard)).toBe(false);
    expect(a.ownedShards()).not.toContain(shard);
    await env.redis.del(shardLeaseKey(env.prefix, shard));
    // and later re-acquires it with a NEW, larger token
    await waitFor(() => a.ownedShards().includes(shard), 5000, 're-acquire');
    expect(a.tokenOf(shard)!).toBeGreaterThan(thiefToken);
  });

  it('a lease that cannot be renewed in time stops serving locally (Redis unreachable)', async () => {
    const a = managers[0]!;
    const shard = a.ownedShards()[0]!;
    a.abandon(); // stops renewing, like a process whose Redis connection hangs
    await sleep(1600);
    expect(a.serves(shard)).toBe(false);
    expect(a.checkFence([shard])).toEqual(new Set());
  });
});
