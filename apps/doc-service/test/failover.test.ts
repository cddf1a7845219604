/**
 * Several in-process doc services: rebalancing, fencing of a stolen lease at persist time, and
 * crash takeover while a fake gateway keeps writing (every acknowledged update survives).
 */
import { shardFenceKey, shardLeaseKey, shardOf } from '@diaryx-sync/bus';
import { PostgresStorage, raiseShardFence } from '@diaryx-sync/crdt/postgres';
import { decodeMessages } from '@diaryx-sync/protocol';
import { TestDocService } from './helpers/test-doc-service';
import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { FakeGateway, sleep, step1Msg, textUpdate, updateMsg, waitFor, type TestEnv } from './helpers';
import { docServiceOptions, startEnvWithGateway } from './helpers/harness';

// integration test against real services: the default 5 s per test is too tight on a busy machine
jest.setTimeout(30000);

const SHARDS = 8;
const T = 'tenant-f';

describe('doc services: fencing and failover', () => {
  let env: TestEnv;
  let gw: FakeGateway;
  const services: TestDocService[] = [];

  const start = async (opts: { ttl?: number; renew?: number } = {}) => {
    const s = new TestDocService(
      docServiceOptions(env, SHARDS, {
        pool: env.newPool(),
        leaseTtlMs: opts.ttl ?? 1500,
        leaseRenewMs: opts.renew ?? 250,
      }),
    );
    services.push(s);
    await s.start();
    return s;
  };

  const storedText = async (docId: string) => {
    const state = await new PostgresStorage({ pool: env.pool, tenant: T }).loadDoc(docId);
    const d = new Y.Doc();
    if (state) Y.applyUpdate(d, state);
    return d.getText('body').toString();
  };

  beforeAll(async () => {
    ({ env, gw } = await startEnvWithGateway(SHARDS));
  });
  afterAll(async () => {
    gw.close();
    for (const s of services) s.kill();
    await sleep(50);
    await env.close();
  });

  it('an instance whose lease was stolen cannot persist (fenced), and stays silent', async () => {
    const a = await start({ ttl: 30000, renew: 10000 }); // will not notice the theft by renewing
    const docId = 'body:w/fenced.md';
    await gw.frame(T, docId, 'c', updateMsg(textUpdate('before')));
    const shard = shardOf(T, docId, SHARDS);
    // a thief takes the lease as a new owner does: Redis lease, then the database fence
    const token = await env.redis.incr(shardFenceKey(env.prefix, shard));
    await env.redis.set(shardLeaseKey(env.prefix, shard), `thief:${token}`, 'PX', 60000);
    await raiseShardFence(env.pool, shard, token, 'thief');

    const msgId = randomUUID();
    await gw.send({
      type: 'frame',
      msgId,
      gatewayId: gw.id,
      connId: 'c',
      tenant: T,
      role: 'editor',
      docId,
      payload: updateMsg(textUpdate('after theft')),
    });
    await sleep(800);
    expect(gw.of('reply', (r) => r.msgId === msgId)).toEqual([]); // never acknowledged
    expect(await storedText(docId)).toBe('before'); // never persisted
    // the doc was dropped: the instance does not keep serving stale memory for it
    expect(a.registry.peek(T, docId)).toBeUndefined();
    a.kill();
    // simulate the expiry of the killed instance's (long) leases
    const leases = await env.redis.keys(`${env.prefix}:shard:*:lease`);
    if (leases.length > 0) await env.redis.del(...leases);
  });

  it('spreads shards over instances, and a crashed instance’s docs are served again within seconds with no acknowledged update lost', async () => {
    // forget the killed instance's membership (its long ttl would skew the split for 30 s)
    await env.redis.del(`${env.prefix}:docsvc:members`);
    const a = await start();
    const b = await start();
    await waitFor(() => a.stats().shards.length === 4 && b.stats().shards.length === 4, 8000, '4/4 split');

    const docs = Array.from({ length: 16 }, (_, i) => `body:w/doc-${i}.md`);
    const clients = new Map(docs.map((d) => [d, new Y.Doc()]));
    const acked = new Map<string, string[]>(docs.map((d) => [d, []]));
    let stop = false;
    let resends = 0;

    // writers: each doc gets a word every ~40 ms; a word counts once its frame is acknowledged
    const writer = async (docId: string) => {
      const client = clients.get(docId)!;
      let i = 0;
      while (!stop) {
        const word = `${docId.slice(-6, -3)}:${i++};`;
        const u = textUpdate(word, client);
        const t0 = Date.now();
        await gw.frame(T, docId, `conn-${docId}`, updateMsg(u), 'editor', 15000);
        if (Date.now() - t0 > 700) resends++;
        acked.get(docId)!.push(word);
        await sleep(40);
      }
    };
    const running = docs.map(writer);
    await sleep(700);
    const victimShards = a.stats().shards;
    const victimDocs = docs.filter((d) => victimShards.includes(shardOf(T, d, SHARDS)));
    expect(victimDocs.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    a.kill(); // crash: no flush, no release
    await waitFor(() => b.stats().shards.length === SHARDS, 8000, 'takeover');
    const takeoverMs = Date.now() - killedAt;
    // writes continue on the survivor
    const before = new Map(victimDocs.map((d) => [d, acked.get(d)!.length]));
    await waitFor(
      () => victimDocs.every((d) => acked.get(d)!.length > before.get(d)! + 2),
      10000,
      'writes after takeover',
    );
    stop = true;
    await Promise.all(running);

    expect(takeoverMs).toBeLessThan(4000);
    expect(resends).toBeGreaterThan(0); // some frames really had to wait for the new owner
    for (const d of docs) {
      const text = await storedText(d);
      for (const w of acked.get(d)!) expect(text).toContain(w);
    }
    // the survivor's memory and PostgreSQL both equal each writer's document
    for (const d of docs) {
      const reply = await gw.frame(T, d, 'check', step1Msg());
      const server = new Y.Doc();
      Y.applyUpdate(server, (decodeMessages(reply.payloads[0]!)[0] as { update: Uint8Array }).update);
      expect(server.getText('body').toString()).toBe(clients.get(d)!.getText('body').toString());
      expect(await storedText(d)).toBe(clients.get(d)!.getText('body').toString());
    }
  }, 60000);
});
