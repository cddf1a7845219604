/**
 * Pure unit tests of what keeps an idle connection cheap (no I/O): the shared token-expiry queue
 * (one timer for every connection) and the map that holds a single entry inline.
 */
import { CompactMap } from '../src/sync/compact-map';
import { ExpiryQueue, type Expiring } from '../src/sync/expiry-queue';

interface Item extends Expiring {
  name: string;
}

const item = (name: string, expiresAt: number): Item => ({ name, expiresAt, expiryIndex: -1 });

describe('ExpiryQueue', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('expires every item once, in deadline order, on one timer', () => {
    const expired: string[] = [];
    const q = new ExpiryQueue<Item>((i) => expired.push(i.name));
    const t0 = Date.now();
    for (const [name, at] of [
      ['c', 3000],
      ['a', 1000],
      ['e', 5000],
      ['b', 2000],
      ['d', 4000],
    ] as const)
      q.add(item(name, t0 + at));
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(999);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(1000 + 10);
    expect(expired).toEqual(['a', 'b']);
    jest.advanceTimersByTime(10_000);
    expect(expired).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(q.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never expires a removed item, and keeps the others in order', () => {
    const expired: string[] = [];
    const q = new ExpiryQueue<Item>((i) => expired.push(i.name));
    const t0 = Date.now();
    const items = Array.from({ length: 50 }, (_, n) => item(`i${n}`, t0 + 1000 + ((n * 37) % 50) * 10));
    for (const i of items) q.add(i);
    const removed = new Set(items.filter((_, n) => n % 3 === 0));
    for (const i of removed) q.remove(i);
    for (const i of removed) expect(i.expiryIndex).toBe(-1);
    q.remove(items[0]); // twice: no-op
    jest.advanceTimersByTime(2000);
    const expected = items
      .filter((i) => !removed.has(i))
      .sort((a, b) => a.expiresAt - b.expiresAt)
      .map((i) => i.name);
    expect(expired).toEqual(expected);
  });

  it('fires early for an item added before the armed deadline', () => {
    const expired: string[] = [];
    const q = new ExpiryQueue<Item>((i) => expired.push(i.name));
    q.add(item('late', Date.now() + 60_000));
    q.add(item('soon', Date.now() + 100));
    jest.advanceTimersByTime(200);
    expect(expired).toEqual(['soon']);
    expect(q.size).toBe(1);
  });

  it('re-arms deadlines beyond the longest setTimeout delay', () => {
    const expired: string[] = [];
    const q = new ExpiryQueue<Item>((i) => expired.push(i.name));
    const far = 2 ** 31 + 10_000;
    q.add(item('far', Date.now() + far));
    jest.advanceTimersByTime(2 ** 31);
    expect(expired).toEqual([]);
    jest.advanceTimersByTime(20_000);
    expect(expired).toEqual(['far']);
  });

  it('expires nothing after stop()', () => {
    const expired: string[] = [];
    const q = new ExpiryQueue<Item>((i) => expired.push(i.name));
    q.add(item('a', Date.now() + 100));
    q.stop();
    jest.advanceTimersByTime(1000);
    expect(expired).toEqual([]);
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('CompactMap', () => {
  it('behaves like a Map through one entry, many entries and back', () => {
    const m = new CompactMap<string, number>();
    const ref = new Map<string, number>();
    const same = () => {
      expect(m.size).toBe(ref.size);
      expect([...m.entries()]).toEqual([...ref.entries()]);
      expect([...m.values()]).toEqual([...ref.values()]);
      for (const k of ['a', 'b', 'c', 'x']) {
        expect(m.has(k)).toBe(ref.has(k));
        expect(m.get(k)).toBe(ref.get(k));
      }
    };
    same();
    const ops: [string, string, number?][] = [
      ['set', 'a', 1],
      ['set', 'a', 2],
      ['delete', 'x'],
      ['delete', 'a'],
      ['set', 'b', 3],
      ['set', 'c', 4],
      ['set', 'a', 5],
      ['delete', 'c'],
      ['delete', 'b'],
      ['set', 'b', 6],
    ];
    for (const [op, key, value] of ops) {
      if (op === 'set') {
        m.set(key, value!);
        ref.set(key, value!);
      } else {
        expect(m.delete(key)).toBe(ref.delete(key));
      }
      same();
    }
    m.clear();
    ref.clear();
    same();
  });

  it('keeps an undefined value of its single entry', () => {
    const m = new CompactMap<string, undefined>();
    m.set('a', undefined);
    expect(m.has('a')).toBe(true);
    expect(m.size).toBe(1);
    expect([...m]).toEqual([['a', undefined]]);
  });
});
