/**
 * A small cache for answers read from a database (does this workspace exist, what is its
 * generation): each answer is kept for a time that depends on the answer, concurrent misses of
 * one key share one lookup (a thousand clients connecting to one workspace at once cost one
 * query), and {@link LookupCache.invalidate} makes the next question go to the database, also
 * when a lookup that started earlier answers afterwards (it answers its own callers, but does not
 * fill the cache).
 */

/** Options of {@link LookupCache}. */
export interface LookupCacheOptions<V> {
  /** How long (ms) to keep `value`; 0 keeps nothing. */
  ttlMs(value: V): number;
  /** Past this many entries the expired ones are dropped (all of them if none expired). */
  maxEntries?: number;
}

/** See module doc. */
export class LookupCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  private readonly lookups = new Map<string, Promise<V>>();
  /** Bumped by every invalidation: a lookup that started before one does not fill the cache. */
  private epoch = 0;
  private readonly maxEntries: number;

  constructor(private readonly options: LookupCacheOptions<V>) {
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  /** The cached answer for `key`, or the (shared) result of `load()`. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && hit.until > Date.now()) return Promise.resolve(hit.value);
    const running = this.lookups.get(key);
    if (running) return running;
    const started = this.epoch;
    const lookup = load().then((value) => {
      if (this.epoch === started) this.remember(key, value);
      return value;
    });
    this.lookups.set(key, lookup);
    const forget = () => {
      if (this.lookups.get(key) === lookup) this.lookups.delete(key);
    };
    lookup.then(forget, forget);
    return lookup;
  }

  /** Forgets the answer for `key` (it changed): the next {@link get} asks the database. */
  invalidate(key: string): void {
    this.epoch++;
    this.entries.delete(key);
    this.lookups.delete(key);
  }

  private remember(key: string, value: V): void {
    const ttl = this.options.ttlMs(value);
    if (ttl <= 0) return;
    const now = Date.now();
    if (this.entries.size >= this.maxEntries) {
      for (const [k, e] of this.entries) if (e.until <= now) this.entries.delete(k);
      if (this.entries.size >= this.maxEntries) this.entries.clear();
    }
    this.entries.set(key, { value, until: now + ttl });
  }
}
