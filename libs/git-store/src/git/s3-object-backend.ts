/**
 * The loose-object store of one workspace repository in S3. Objects are content-addressed and
 * immutable: written once (never overwritten), read through a process-wide LRU cache.
 */
import { gitObjectKey, type ObjectStorage } from '@diaryx-sync/objstore';
import { ByteLruCache } from './lru-cache';

/** Process-wide cache of deflated objects by S3 key (objects never change, so never stale). */
const objectCache = new ByteLruCache(Number(process.env.GIT_OBJECT_CACHE_BYTES ?? 32 * 1024 * 1024));
/** Keys known to exist in S3 (skips the existence probe before a write). */
const knownKeys = new Set<string>();
const KNOWN_KEYS_MAX = 200_000;

function remember(key: string): void {
  if (knownKeys.size >= KNOWN_KEYS_MAX) knownKeys.clear();
  knownKeys.add(key);
}

/** Forgets cached objects under `prefix` (after they were deleted from S3). */
export function forgetCachedObjects(prefix: string): void {
  objectCache.deletePrefix(prefix);
  for (const key of knownKeys) if (key.startsWith(prefix)) knownKeys.delete(key);
}

/** Loose objects (`zlib(type len\0content)`) of `{tenant}/{workspace}/git/objects/…`. */
export class S3ObjectBackend {
  constructor(
    readonly storage: ObjectStorage,
    readonly tenant: string,
    readonly workspace: string,
  ) {}

  keyOf(oid: string): string {
    return gitObjectKey(this.tenant, this.workspace, oid);
  }

  /** The deflated loose object, or `null` when absent. */
  async readDeflated(oid: string): Promise<Buffer | null> {
    const key = this.keyOf(oid);
    const cached = objectCache.get(key);
    if (cached) return cached;
    const data = await this.storage.get(key);
    if (data) {
      objectCache.set(key, data);
      remember(key);
    }
    return data;
  }

  /** True when the object exists. */
  async has(oid: string): Promise<boolean> {
    const key = this.keyOf(oid);
    if (knownKeys.has(key) || objectCache.has(key)) return true;
    const found = await this.storage.exists(key);
    if (found) remember(key);
    return found;
  }

  /** Writes the deflated object unless it exists already (write-once). */
  async writeDeflated(oid: string, deflated: Buffer): Promise<void> {
    if (await this.has(oid)) return;
    const key = this.keyOf(oid);
    await this.storage.put(key, deflated);
    remember(key);
    objectCache.set(key, deflated);
  }
}
