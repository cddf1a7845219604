import { StaleFenceError } from '@diaryx-sync/crdt/postgres';
import { FencedError, GroupCommitter, type BatchWriter } from '@diaryx-sync/doc-service';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A writer that takes `ms` per batch and records batches. */
function slowWriter(
  ms: number,
  batches: { tenant: string; docs: string[] }[],
  fail?: (n: number) => boolean,
): BatchWriter {
  return async (tenant, entries) => {
    batches.push({ tenant, docs: entries.map((e) => e.doc) });
    await sleep(ms);
    if (fail?.(batches.length)) throw new Error('db down');
  };
}

const allValid = (shards: Set<number>) => shards;

describe('GroupCommitter', () => {
  it('writes the first append at once and batches the ones that arrive while a batch is in flight', async () => {
    const batches: { tenant: string; docs: string[] }[] = [];
    const gc = new GroupCommitter({ write: slowWriter(20, batches), fence: allValid });
    const first = gc.append({ tenant: 't', doc: 'd0', shard: 0, token: 1, data: new Uint8Array([1]) });
    await sleep(5);
    const rest = Array.from({ length: 50 }, (_, i) =>
      gc.append({ tenant: 't', doc: `d${i + 1}`, shard: 0, token: 1, data: new Uint8Array([1]) }),
    );
    await Promise.all([first, ...rest]);
    expect(batches.map((b) => b.docs.length)).toEqual([1, 50]);
    // order within a tenant is kept
    expect(batches.flatMap((b) => b.docs)).toEqual(Array.from({ length: 51 }, (_, i) => `d${i}`));
  });

  it('keeps one batch per tenant (tenants flush independently) and bounds batch size', async () => {
    const batches: { tenant: string; docs: string[] }[] = [];
    const gc = new GroupCommitter({ write: slowWriter(5, batches), fence: allValid, maxBatch: 16 });
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        gc.append({ tenant: i % 2 ? 'a' : 'b', doc: `d${i}`, shard: 0, token: 1, data: new Uint8Array([1]) }),
      ),
    );
    for (const b of batches) expect(new Set(b.docs.map((d) => Number(d.slice(1)) % 2)).size).toBe(1);
    expect(Math.max(...batches.map((b) => b.docs.length))).toBeLessThanOrEqual(16);
    expect(batches.reduce((n, b) => n + b.docs.length, 0)).toBe(40);
  });

  it('rejects entries of fenced shards (never written) and writes the others', async () => {
    const batches: { tenant: string; docs: string[] }[] = [];
    const gc = new GroupCommitter({
      write: slowWriter(1, batches),
      fence: (shards) => new Set([...shards].filter((s) => s !== 3)),
    });
    const ok = gc.append({ tenant: 't', doc: 'ok', shard: 1, token: 1, data: new Uint8Array([1]) });
    const fenced = gc.append({ tenant: 't', doc: 'fenced', shard: 3, token: 1, data: new Uint8Array([1]) });
    await Promise.all([
      expect(ok).resolves.toBeUndefined(),
      expect(fenced).rejects.toBeInstanceOf(FencedError),
    ]);
    expect(batches.flatMap((b) => b.docs)).toEqual(['ok']);
  });

  it('rejects entries whose token is older than the current one of the shard', async () => {
    const batches: { tenant: string; docs: string[] }[] = [];
    const gc = new GroupCommitter({ write: slowWriter(1, batches), fence: allValid });
    const stale = gc.append({ tenant: 't', doc: 'stale', shard: 1, token: 1, data: new Uint8Array([1]) });
    const fresh = gc.append({ tenant: 't', doc: 'fresh', shard: 1, token: 2, data: new Uint8Array([1]) });
    await Promise.all([
      expect(stale).rejects.toBeInstanceOf(FencedError),
      expect(fresh).resolves.toBeUndefined(),
    ]);
  });

  it('propagates a failed batch to all its entries, and keeps going with the next batch', async () => {
    const batches: { tenant: string; docs: string[] }[] = [];
    const gc = new GroupCommitter({ write: slowWriter(10, batches, (n) => n === 1), fence: allValid });
    const a = gc.append({ tenant: 't', doc: 'a', shard: 0, token: 1, data: new Uint8Array([1]) });
    await expect(a).rejects.toThrow('db down');
    await expect(
      gc.append({ tenant: 't', doc: 'b', shard: 0, token: 1, data: new Uint8Array([1]) }),
    ).resolves.toBeUndefined();
    await gc.drain();
    expect(gc.pending).toBe(0);
  });

  it('a batch the database refuses for a stale shard: that shard is given up and fenced, the others are written', async () => {
    const calls: { docs: string[]; fences: number[] }[] = [];
    const stale: number[][] = [];
    const gc = new GroupCommitter({
      write: async (_tenant, entries) => {
        calls.push({ docs: entries.map((e) => e.doc), fences: entries.map((e) => e.fence.token) });
        if (entries.some((e) => e.fence.shard === 1)) throw new StaleFenceError([1]);
      },
      fence: allValid,
      onStale: (shards) => stale.push(shards),
    });
    const results = await Promise.allSettled([
      gc.append({ tenant: 't', doc: 'a', shard: 1, token: 7, data: new Uint8Array([1]) }),
      gc.append({ tenant: 't', doc: 'b', shard: 2, token: 9, data: new Uint8Array([1]) }),
      gc.append({ tenant: 't', doc: 'c', shard: 1, token: 7, data: new Uint8Array([1]) }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(FencedError);
    expect(stale).toEqual([[1]]);
    // every entry carries its shard's token; the second statement holds only the valid shard
    expect(calls).toEqual([
      { docs: ['a', 'b', 'c'], fences: [7, 9, 7] },
      { docs: ['b'], fences: [9] },
    ]);
  });
});
