/** Stable routing of tenant-qualified documents to virtual shards (docs/architecture.md#properties, property 1). */

import { tenantKey } from './names';

const utf8 = new TextEncoder();

/**
 * The shard (0 ≤ n < shardCount) that owns `docId` of `tenant`.
 *
 * Hash: FNV-1a 32-bit over the UTF-8 bytes of `tenant + "\0" + docId`, followed by the
 * murmur3 finalizer so that `mod shardCount` is evenly spread. Stable across processes,
 * versions and platforms: never change it (it decides where data is served from).
 */
export function shardOf(tenant: string, docId: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new RangeError(`shardCount must be a positive integer, got ${shardCount}`);
  }
  const bytes = utf8.encode(tenantKey(tenant, docId));
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % shardCount;
}
