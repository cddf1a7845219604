/**
 * Reads of many shard keys in one round trip where the topology allows it: `MGET` / one
 * pipeline on a single node or Sentinel; on Redis Cluster the keys live in different slots (one
 * per shard, docs/redis.md), so one command per key, sent concurrently.
 */
import { Cluster } from 'ioredis';
import type { RedisClient } from '@diaryx-sync/runtime';

/** `GET` of every key, in order. */
export async function getEach(redis: RedisClient, keys: string[]): Promise<(string | null)[]> {
  if (keys.length === 0) return [];
  if (redis instanceof Cluster) return Promise.all(keys.map((k) => redis.get(k)));
  return redis.mget(...keys);
}

/** `PTTL` of every key, in order (`-2` missing, `-1` no expiry, `null` when the read failed). */
export async function pttlEach(redis: RedisClient, keys: string[]): Promise<(number | null)[]> {
  if (keys.length === 0) return [];
  if (redis instanceof Cluster) return Promise.all(keys.map((k) => redis.pttl(k).catch(() => null)));
  const pipeline = redis.pipeline();
  for (const k of keys) pipeline.pttl(k);
  return ((await pipeline.exec()) ?? []).map(([err, v]) => (err || typeof v !== 'number' ? null : v));
}
