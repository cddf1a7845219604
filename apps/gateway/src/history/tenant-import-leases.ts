/**
 * Cluster-wide count of one tenant's running zip imports, so that a tenant runs at most N imports
 * whichever gateways its uploads reach (docs/protocol.md, "Zip imports"). Each running import
 * holds a lease: a member of the sorted set `{prefix}:import-leases:{tenant}` scored with its
 * expiry (Redis server time), renewed while the import runs and removed when it ends; a gateway
 * that dies leaves leases that expire after `ttlMs`.
 */
import { randomUUID } from 'node:crypto';
import type { RedisClient } from '@diaryx-sync/runtime';

// KEYS[1] the tenant's set; ARGV: limit, ttl ms, member. Returns 1 when the lease was taken.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1`;

// KEYS[1] the tenant's set; ARGV: ttl ms, member. Pushes the member's expiry forward if it exists.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[2]) == 1 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
end
return 1`;

export class TenantImportLeases {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly perTenant: number,
    private readonly ttlMs = 60_000,
  ) {}

  /** A release function when the tenant has a free lease, else `null` (nothing taken). */
  async tryAcquire(tenant: string): Promise<(() => Promise<void>) | null> {
    const key = `${this.prefix}:import-leases:${tenant}`;
    const member = randomUUID();
    const taken = await this.redis.eval(ACQUIRE, 1, key, this.perTenant, this.ttlMs, member);
    if (Number(taken) !== 1) return null;
    const renew = setInterval(() => {
      void this.redis.eval(RENEW, 1, key, this.ttlMs, member).catch(() => undefined);
    }, this.ttlMs / 3);
    renew.unref();
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      clearInterval(renew);
      await this.redis.zrem(key, member).catch(() => undefined);
    };
  }
}
