/**
 * The fence inside the database (docs/fencing.md): a doc service whose database traffic is
 * delayed while its shards move to another service must not land its in-flight batch when the
 * traffic resumes. Its update is never acknowledged, it gives the shard up, and the update log
 * shows one owner per fencing token, tokens only increasing.
 */
import { shardOf } from '@diaryx-sync/bus';
import { readShardFences } from '@diaryx-sync/crdt/postgres';
import { TestDocService } from './helpers/test-doc-service';
import type { Pool } from 'pg';
import * as Y from 'yjs';
import { FakeGateway, sleep, textUpdate, updateMsg, waitFor, type TestEnv } from './helpers';
import type { DelayProxy } from './helpers/delay-proxy';
import {
  closeDelayedPool,
  docServiceOptions,
  sendFrameOnce,
  startDelayedPool,
  startEnvWithGateway,
  storedBodyText,
} from './helpers/harness';

jest.setTimeout(60000);

const SHARDS = 4;
const T = 'tenant-pgfence';
const DOC = 'body:w/delayed.md';

describe('database fence: a delayed write of a former owner', () => {
  let env: TestEnv;
  let gw: FakeGateway;
  let proxy: DelayProxy;
  let proxiedPool: Pool;
  const services: TestDocService[] = [];

  beforeAll(async () => {
    ({ env, gw } = await startEnvWithGateway(SHARDS));
    ({ proxy, pool: proxiedPool } = await startDelayedPool(env));
  });

  afterAll(async () => {
    gw.close();
    for (const s of services) s.kill();
    await closeDelayedPool(proxy, proxiedPool);
    await sleep(50);
    await env.close();
  });

  const storedText = (docId: string) => storedBodyText(env, T, docId);

  it('does not land after the shard moved: not acknowledged, shard given up, one owner per token', async () => {
    const shard = shardOf(T, DOC, SHARDS);
    const ttl = 1200;
    const a = new TestDocService(
      docServiceOptions(env, SHARDS, {
        pool: proxiedPool,
        leaseTtlMs: ttl,
        leaseRenewMs: 200,
        instanceId: 'ds-a',
      }),
    );
    services.push(a);
    await a.start();
    expect(a.stats().shards).toContain(shard);
    const tokenA = a.leases.tokenOf(shard)!;
    expect((await readShardFences(env.pool)).get(shard)).toEqual({ token: tokenA, owner: 'ds-a' });

    const client = new Y.Doc();
    await gw.frame(T, DOC, 'c', updateMsg(textUpdate('[before]', client)));
    expect(await storedText(DOC)).toBe('[before]');

    // A's database traffic stalls; A applies a frame and sends its batch (passing the Redis fence)
    proxy.hold();
    const staleMsg = await sendFrameOnce(gw, T, DOC, 'c', updateMsg(textUpdate('[stale]', client)));
    await waitFor(() => a.stats().pendingAppends > 0, 5000, 'the batch of A in flight');
    // ... then A is paused (its lease timers stop), its leases expire and B takes the shards
    a.leases.abandon();
    await sleep(ttl + 100);
    const b = new TestDocService(docServiceOptions(env, SHARDS, { instanceId: 'ds-b', leaseTtlMs: 5000 }));
    services.push(b);
    await b.start();
    expect(b.stats().shards).toContain(shard);
    const tokenB = b.leases.tokenOf(shard)!;
    expect(tokenB).toBeGreaterThan(tokenA);
    const fresh = new Y.Doc();
    await gw.frame(T, DOC, 'c2', updateMsg(textUpdate('[by-b]', fresh)));
    expect(await storedText(DOC)).toContain('[by-b]');

    // A resumes: its held INSERT reaches PostgreSQL now, 1+ s after the shard moved
    proxy.release();
    await waitFor(() => a.stats().pendingAppends === 0, 10000, 'the batch of A to finish');
    await sleep(300);
    expect(await storedText(DOC)).not.toContain('[stale]'); // did not land
    expect(gw.of('reply', (r) => r.msgId === staleMsg)).toEqual([]); // never acknowledged
    expect(a.leases.ownedShards()).not.toContain(shard); // gave the shard up
    expect(a.registry.peek(T, DOC)).toBeUndefined();

    // the update log: every fenced row of the shard carries a token, in increasing order
    const rows = await env.pool.query<{ fence_token: string; fence_shard: number }>(
      'SELECT fence_shard, fence_token FROM crdt_updates WHERE tenant = $1 ORDER BY id',
      [T],
    );
    expect(rows.rows.map((r) => [r.fence_shard, Number(r.fence_token)])).toEqual([
      [shard, tokenA],
      [shard, tokenB],
    ]);
  });
});
