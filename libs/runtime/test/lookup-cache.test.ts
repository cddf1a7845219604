import { LookupCache } from '../src/lookup-cache';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('LookupCache', () => {
  test('concurrent misses of one key share one lookup; the answer is kept for its ttl', async () => {
    const cache = new LookupCache<boolean>({ ttlMs: (v) => (v ? 60_000 : 0) });
    let loads = 0;
    const pending = deferred<boolean>();
    const load = () => {
      loads++;
      return pending.promise;
    };
    const answers = Array.from({ length: 20 }, () => cache.get('k', load));
    pending.resolve(true);
    expect(await Promise.all(answers)).toEqual(Array(20).fill(true));
    expect(loads).toBe(1);
    expect(await cache.get('k', load)).toBe(true);
    expect(loads).toBe(1);
    // other keys are looked up on their own
    expect(await cache.get('other', async () => false)).toBe(false);
  });

  test('an answer with ttl 0 is not kept; a failed lookup is not kept and the next call retries', async () => {
    const cache = new LookupCache<boolean>({ ttlMs: (v) => (v ? 60_000 : 0) });
    let loads = 0;
    const no = async () => {
      loads++;
      return false;
    };
    await cache.get('k', no);
    await cache.get('k', no);
    expect(loads).toBe(2);
    await expect(cache.get('e', () => Promise.reject(new Error('db down')))).rejects.toThrow('db down');
    expect(await cache.get('e', async () => true)).toBe(true);
  });

  test('invalidate: the next call asks again, and a lookup that started before answers its callers but is not kept', async () => {
    const cache = new LookupCache<string>({ ttlMs: () => 60_000 });
    const old = deferred<string>();
    const before = cache.get('w', () => old.promise);
    cache.invalidate('w');
    const fresh = cache.get('w', async () => 'new');
    old.resolve('old');
    expect(await before).toBe('old');
    expect(await fresh).toBe('new');
    expect(await cache.get('w', async () => 'unused')).toBe('new');
  });

  test('past maxEntries the expired entries are dropped first', async () => {
    let ttl = 1;
    const cache = new LookupCache<number>({ ttlMs: () => ttl, maxEntries: 2 });
    await cache.get('a', async () => 1);
    await cache.get('b', async () => 2);
    await new Promise((r) => setTimeout(r, 5));
    ttl = 60_000;
    await cache.get('c', async () => 3); // a and b expired: dropped, c kept
    await cache.get('d', async () => 4);
    expect(await cache.get('c', async () => -1)).toBe(3);
    expect(await cache.get('d', async () => -1)).toBe(4);
  });
});
