/**
 * Lua scripts for shard leases. A lease is a string key `${p}:shard:{n}:lease` with value
 * `${instanceId}:${token}` and a PX expiry; the token comes from `INCR ${p}:shard:{n}:fence`,
 * so every acquisition of a shard gets a strictly larger fencing token. Lease and counter share
 * the hash tag `{n}`, so ACQUIRE touches one Redis Cluster slot; on a cluster RENEW
 * runs once per shard (one slot each) instead of once for all shards (docs/redis.md).
 */
import { Cluster } from 'ioredis';
import type { RedisClient } from '@diaryx-sync/runtime';

/** KEYS[1] lease, KEYS[2] fence counter; ARGV[1] instance id, ARGV[2] ttl ms → token or 0. */
const ACQUIRE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', tonumber(ARGV[2]))
return token`;

/** KEYS = leases; ARGV[1] ttl ms, ARGV[2..] expected values → array of 1 (renewed) / 0 (lost). */
const RENEW = `
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, tonumber(ARGV[1]))
    out[i] = 1
  else
    out[i] = 0
  end
end
return out`;

/** KEYS[1] lease; ARGV[1] expected value → 1 released / 0 not ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** KEYS[1] fence counter; ARGV[1] token → the counter, raised to at least the token. */
const RAISE_COUNTER = `
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local want = tonumber(ARGV[1])
if cur < want then redis.call('SET', KEYS[1], want) return want end
return cur`;

/** Typed wrappers around the lease scripts (registered with ioredis `defineCommand`). */
export interface LeaseScripts {
  acquire(leaseKey: string, fenceKey: string, instanceId: string, ttlMs: number): Promise<number>;
  renew(leaseKeys: string[], values: string[], ttlMs: number): Promise<number[]>;
  release(leaseKey: string, value: string): Promise<number>;
  raiseCounter(fenceKey: string, token: number): Promise<number>;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;

/** Registers the scripts on `redis` (idempotent) and returns typed wrappers. */
export function leaseScripts(redis: RedisClient): LeaseScripts {
  const r = redis as unknown as Record<string, ScriptFn | undefined>;
  if (!r.dxLeaseAcquire) {
    redis.defineCommand('dxLeaseAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    redis.defineCommand('dxLeaseRenew', { lua: RENEW });
    redis.defineCommand('dxLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
  }
  if (!r.dxLeaseRaiseCounter)
    redis.defineCommand('dxLeaseRaiseCounter', { numberOfKeys: 1, lua: RAISE_COUNTER });
  const call = (name: string, ...args: (string | number)[]) => (r[name] as ScriptFn).call(redis, ...args);
  const perSlot = redis instanceof Cluster;
  const renew = async (keys: string[], values: string[], ttl: number): Promise<number[]> =>
    keys.length === 0 ? [] : ((await call('dxLeaseRenew', keys.length, ...keys, ttl, ...values)) as number[]);
  return {
    acquire: async (leaseKey, fenceKey, id, ttl) =>
      Number(await call('dxLeaseAcquire', leaseKey, fenceKey, id, ttl)),
    renew: async (keys, values, ttl) =>
      perSlot
        ? (await Promise.all(keys.map((k, i) => renew([k], [values[i]!], ttl)))).flat()
        : renew(keys, values, ttl),
    release: async (key, value) => Number(await call('dxLeaseRelease', key, value)),
    raiseCounter: async (key, token) => Number(await call('dxLeaseRaiseCounter', key, token)),
  };
}
