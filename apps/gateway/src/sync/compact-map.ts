/**
 * A map that keeps its first entry inline and allocates a `Map` only for a second one. Most
 * connections use one doc of one workspace, and even an empty V8 `Map` costs ~200 bytes of heap
 * (its hash table is allocated up front), which is a good part of what an idle connection keeps.
 */
export class CompactMap<K, V> {
  /** The single entry while there is at most one (`hasOne` tells whether it is set). */
  private oneKey: K | undefined;
  private oneValue: V | undefined;
  private hasOne = false;
  /** Every entry once there were two or more at the same time. */
  private many: Map<K, V> | undefined;

  get size(): number {
    return this.many ? this.many.size : this.hasOne ? 1 : 0;
  }

  get(key: K): V | undefined {
    if (this.many) return this.many.get(key);
    return this.hasOne && this.oneKey === key ? this.oneValue : undefined;
  }

  has(key: K): boolean {
    if (this.many) return this.many.has(key);
    return this.hasOne && this.oneKey === key;
  }

  set(key: K, value: V): void {
    if (this.many) {
      this.many.set(key, value);
    } else if (!this.hasOne || this.oneKey === key) {
      this.oneKey = key;
      this.oneValue = value;
      this.hasOne = true;
    } else {
      this.many = new Map([[this.oneKey as K, this.oneValue as V]]);
      this.many.set(key, value);
      this.forgetOne();
    }
  }

  /** Removes `key`; true when it was there. */
  delete(key: K): boolean {
    if (this.many) return this.many.delete(key);
    if (!this.hasOne || this.oneKey !== key) return false;
    this.forgetOne();
    return true;
  }

  clear(): void {
    this.many = undefined;
    this.forgetOne();
  }

  /** Entries in insertion order (like `Map`, entries added while iterating may be visited). */
  *entries(): IterableIterator<[K, V]> {
    if (this.many) yield* this.many.entries();
    else if (this.hasOne) yield [this.oneKey as K, this.oneValue as V];
  }

  *values(): IterableIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  private forgetOne(): void {
    this.oneKey = undefined;
    this.oneValue = undefined;
    this.hasOne = false;
  }
}
