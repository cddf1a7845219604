/** PayloadStore against real Redis: large reply payloads stored once, fetched once, in order. */
import { randomBytes } from 'node:crypto';
import { INLINE_PAYLOAD_MAX_BYTES, PayloadStore, payloadKey } from '@diaryx-sync/bus';
import { Redis } from 'ioredis';

jest.setTimeout(30000);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('PayloadStore (real Redis)', () => {
  const prefix = `tpay${randomBytes(4).toString('hex')}`;
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  });

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  it('keeps small payloads inline and stores a large one once, under a tenant-scoped key that expires', async () => {
    const store = new PayloadStore({ redis, prefix, ttlSeconds: 30 });
    const small = randomBytes(100);
    const big = new Uint8Array(randomBytes(INLINE_PAYLOAD_MAX_BYTES + 1));
    const out = await store.offload('tenant-a', [small, big]);
    expect(out[0]).toBe(small);
    const ref = out[1] as { key: string };
    expect(ref.key.startsWith(payloadKey(prefix, 'tenant-a', ''))).toBe(true);
    expect(await redis.ttl(ref.key)).toBeGreaterThan(20);
    expect(Buffer.compare(Buffer.from(big), (await redis.getBuffer(ref.key)) as Buffer)).toBe(0);
    // The same payload object (a cached answer shared by many joiners) is not stored again.
    await redis.del(ref.key);
    expect(await store.offload('tenant-a', [big])).toEqual([ref]);
    expect(await redis.exists(ref.key)).toBe(0);
    // Equal bytes of another tenant live under that tenant's key.
    const other = (await store.offload('tenant-b', [Uint8Array.from(big)]))[0] as { key: string };
    expect(other.key).not.toBe(ref.key);
    expect(other.key.startsWith(payloadKey(prefix, 'tenant-b', ''))).toBe(true);
  });

  it('resolves references (one GET for concurrent readers), and answers null once a payload is gone', async () => {
    const writer = new PayloadStore({ redis, prefix });
    const reader = new PayloadStore({ redis, prefix });
    const big = new Uint8Array(randomBytes(INLINE_PAYLOAD_MAX_BYTES * 2));
    const refs = await writer.offload('t', [big]);
    expect(PayloadStore.isResolved(refs)).toBe(false);
    const getBuffer = jest.spyOn(redis, 'getBuffer');
    const all = await Promise.all(Array.from({ length: 20 }, () => reader.resolve(refs)));
    expect(getBuffer).toHaveBeenCalledTimes(1);
    getBuffer.mockRestore();
    for (const r of all)
      expect(Buffer.compare(Buffer.from(big), Buffer.from((r as Uint8Array[])[0] as Uint8Array))).toBe(0);
    const gone = { key: payloadKey(prefix, 't', 'ff'.repeat(32)) };
    expect(await reader.resolve([Uint8Array.of(1), gone])).toBeNull();
  });
});
