/**
 * The loose-object store of one workspace repository in S3. Objects are content-addressed and
 * immutable: written once (never overwritten), read through the {@link GitObjectCache} its
 * `GitStore` shares between all repositories.
 */
import { gitObjectKey, type ObjectStorage } from '@diaryx-sync/objstore';
import { ByteLruCache } from './lru-cache';

/** Default size of the object cache (`GIT_OBJECT_CACHE_BYTES` of the history worker). */
export const DEFAULT_OBJECT_CACHE_BYTES = 32 * 1024 * 1024;

const KNOWN_KEYS_MAX = 200_000;

/** Deflated objects by S3 key (objects never change, so never stale) and keys known to exist. */
export class GitObjectCache {
  private readonly objects: ByteLruCache;
  /** Keys known to exist in S3 (skips the existence probe before a write). */
  private readonly knownKeys = new Set<string>();

  /** A cache holding at most `maxBytes` of object data. */
  constructor(maxBytes: number = DEFAULT_OBJECT_CACHE_BYTES) {
    this.objects = new ByteLruCache(maxBytes);
  }

  get(key: string): Buffer | undefined {
    return this.objects.get(key);
  }

  /** True when the key is cached or known to exist. */
  has(key: string): boolean {
    return this.knownKeys.has(key) || this.objects.has(key);
  }

  /** Caches an object's data (and remembers that it exists). */
  set(key: string, data: Buffer): void {
    this.objects.set(key, data);
    this.remember(key);
  }

  /** Remembers that a key exists without caching its data. */
  remember(key: string): void {
    if (this.knownKeys.size >= KNOWN_KEYS_MAX) this.knownKeys.clear();
    this.knownKeys.add(key);
  }

  /** Forgets everything under `prefix` (after it was deleted from S3). */
  forget(prefix: string): void {
    this.objects.deletePrefix(prefix);
    for (const key of this.knownKeys) if (key.startsWith(prefix)) this.knownKeys.delete(key);
  }
}

/** Loose objects (`zlib(type len\0content)`) of `{tenant}/{workspace}/git/objects/…`. */
export class S3ObjectBackend {
  constructor(
    readonly storage: ObjectStorage,
    readonly tenant: string,
    readonly workspace: string,
    private readonly cache: GitObjectCache,
  ) {}

  keyOf(oid: string): string {
    return gitObjectKey(this.tenant, this.workspace, oid);
  }

  /** The deflated loose object, or `null` when absent. */
  async readDeflated(oid: string): Promise<Buffer | null> {
    const key = this.keyOf(oid);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const data = await this.storage.get(key);
    if (data) this.cache.set(key, data);
    return data;
  }

  /** True when the object exists. */
  async has(oid: string): Promise<boolean> {
    const key = this.keyOf(oid);
    if (this.cache.has(key)) return true;
    const found = await this.storage.exists(key);
    if (found) this.cache.remember(key);
    return found;
  }

  /** Writes the deflated object unless it exists already (write-once). */
  async writeDeflated(oid: string, deflated: Buffer): Promise<void> {
    if (await this.has(oid)) return;
    const key = this.keyOf(oid);
    await this.storage.put(key, deflated);
    this.cache.set(key, deflated);
  }
}
