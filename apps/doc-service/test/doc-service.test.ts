/**
 * A doc service in-process against real Redis + PostgreSQL, driven by a fake gateway that speaks
 * the bus: apply/persist/ack/broadcast, sync exchange, sync_complete, viewers, bad payloads,
 * save barrier ordering, persistence across restarts, ClusterClient, awareness, workspace check.
 */
import { ClusterClient, type BroadcastEnvelope } from '@diaryx-sync/bus';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { PgWorkspaceDirectory } from '@diaryx-sync/doc-service';
import { TestDocService } from './helpers/test-doc-service';
import { decodeMessages, encodeMessage } from '@diaryx-sync/protocol';
import * as Y from 'yjs';
import {
  createTestEnv,
  FakeGateway,
  fileUpdate,
  sleep,
  step1Msg,
  textUpdate,
  updateMsg,
  waitFor,
  type TestEnv,
} from './helpers';
import { docServiceOptions, startFakeGateway } from './helpers/harness';

// integration test against real services: the default 5 s per test is too tight on a busy machine
jest.setTimeout(30000);

const SHARDS = 8;
const T = 'tenant-a';

describe('doc service (in-process, real Redis + PostgreSQL)', () => {
  let env: TestEnv;
  let svc: TestDocService;
  let gw: FakeGateway;

  const start = async () => {
    const s = new TestDocService(
      docServiceOptions(env, SHARDS, {
        leaseTtlMs: 2000,
        leaseRenewMs: 300,
        workspaceDirectory: new PgWorkspaceDirectory(env.pool, env.logger, 0, 0),
      }),
    );
    await s.start();
    return s;
  };

  const rows = async (doc: string, tenant = T) =>
    (
      await env.pool.query<{ data: Buffer; origin: string }>(
        'SELECT data, origin FROM crdt_updates WHERE tenant = $1 AND doc = $2 ORDER BY id',
        [tenant, doc],
      )
    ).rows;

  beforeAll(async () => {
    env = await createTestEnv();
    await env.pool.query(
      `CREATE TABLE workspaces (tenant_id text NOT NULL, id text NOT NULL, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, id))`,
    );
    await env.pool.query(
      `INSERT INTO workspaces VALUES ($1, 'w1', 'one'), ($1, 'w2', 'two'), ('tenant-b', 'w1', 'b')`,
      [T],
    );
    svc = await start();
    gw = await startFakeGateway(env, SHARDS);
  });

  afterAll(async () => {
    gw.close();
    await svc.stop();
    await env.close();
  });

  it('applies an update, persists it BEFORE acknowledging, then broadcasts the same change once', async () => {
    const docId = 'body:w1/a.md';
    await gw.watchDoc(T, docId);
    const update = textUpdate('hello');
    const reply = await gw.frame(T, docId, 'c1', updateMsg(update));
    // the ack arrives only once the row is durable
    expect((await rows(docId)).length).toBe(1);
    expect(reply).toMatchObject({ ack: true, readOnlyViolation: false, syncComplete: null, payloads: [] });
    const bc = await waitFor(() => gw.of('broadcast', (b) => b.docId === docId)[0], 3000, 'broadcast');
    expect(bc).toMatchObject({ tenant: T, originGatewayId: gw.id, originConnId: 'c1' });
    const msgs = decodeMessages(bc.payload);
    expect(msgs).toHaveLength(1);
    expect(msgs[0]!.type).toBe('update');
    const check = new Y.Doc();
    Y.applyUpdate(check, (msgs[0] as { update: Uint8Array }).update);
    expect(check.getText('body').toString()).toBe('hello');

    // the same update again changes nothing: acked, no new row, no broadcast
    const n = gw.of('broadcast').length;
    await gw.frame(T, docId, 'c1', updateMsg(update));
    await sleep(100);
    expect((await rows(docId)).length).toBe(1);
    expect(gw.of('broadcast').length).toBe(n);
  });

  it('answers SyncStep1 with SyncStep2 then its own SyncStep1', async () => {
    const docId = 'body:w1/a.md';
    const reply = await gw.frame(T, docId, 'c2', step1Msg());
    expect(reply.payloads).toHaveLength(2);
    const [s2, s1] = reply.payloads.map((p) => decodeMessages(p)[0]!);
    expect(s2!.type).toBe('syncStep2');
    expect(s1!.type).toBe('syncStep1');
    const client = new Y.Doc();
    Y.applyUpdate(client, (s2 as { update: Uint8Array }).update);
    expect(client.getText('body').toString()).toBe('hello');
  });

  it('sends sync_complete with the live file count after the first workspace SyncStep1 of a connection only', async () => {
    const docId = 'workspace:w1';
    const ws = new Y.Doc();
    await gw.frame(T, docId, 'c1', updateMsg(fileUpdate('a.md', { filename: 'a.md', deleted: false }, ws)));
    await gw.frame(T, docId, 'c1', updateMsg(fileUpdate('b.md', { filename: 'b.md', deleted: false }, ws)));
    await gw.frame(
      T,
      docId,
      'c1',
      updateMsg(fileUpdate('old.md', { filename: 'old.md', deleted: true }, ws)),
    );
    const first = await gw.frame(T, docId, 'c3', step1Msg());
    expect(first.syncComplete).toBe(2);
    const again = await gw.frame(T, docId, 'c3', step1Msg());
    expect(again.syncComplete).toBeNull();
    // body docs never get it
    expect((await gw.frame(T, 'body:w1/a.md', 'c9', step1Msg())).syncComplete).toBeNull();
  });

  it('refuses a viewer change (readOnlyViolation, nothing applied or stored) but lets a viewer sync', async () => {
    const docId = 'body:w1/viewer.md';
    const before = (await rows(docId)).length;
    const r = await gw.frame(T, docId, 'v1', updateMsg(textUpdate('nope')), 'viewer');
    expect(r.readOnlyViolation).toBe(true);
    expect(r.ack).toBe(true);
    const empty = encodeMessage({ type: 'syncStep2', update: Y.encodeStateAsUpdate(new Y.Doc()) });
    const r2 = await gw.frame(T, docId, 'v1', empty, 'viewer');
    expect(r2.readOnlyViolation).toBe(false);
    const r3 = await gw.frame(T, docId, 'v1', step1Msg(), 'viewer');
    const s2 = decodeMessages(r3.payloads[0]!)[0] as { update: Uint8Array };
    const d = new Y.Doc();
    Y.applyUpdate(d, s2.update);
    expect(d.getText('body').toString()).toBe('');
    expect((await rows(docId)).length).toBe(before);
  });

  it('answers malformed payloads with bad_payload and keeps serving the doc', async () => {
    const docId = 'body:w1/a.md';
    await expect(gw.frame(T, docId, 'c1', new Uint8Array([0, 2, 200]))).rejects.toThrow(/bad_payload/);
    await expect(gw.frame(T, docId, 'c1', new Uint8Array([7]))).rejects.toThrow(/bad_payload/);
    await expect(gw.frame(T, docId, 'c1', updateMsg(new Uint8Array([1, 2, 3, 4, 5])))).rejects.toThrow(
      /bad_payload/,
    );
    await expect(gw.frame(T, 'body:w1/../x.md', 'c1', step1Msg())).rejects.toThrow(/bad_payload/);
    const ok = await gw.frame(T, docId, 'c1', step1Msg());
    expect(ok.ack).toBe(true);
  });

  it('refuses docs of workspaces that do not exist in the tenant', async () => {
    await expect(gw.frame(T, 'body:nope/a.md', 'c1', step1Msg())).rejects.toThrow(/not_found/);
    await expect(gw.frame('tenant-c', 'workspace:w1', 'c1', step1Msg())).rejects.toThrow(/not_found/);
    // same workspace id in another tenant is another workspace (and exists there)
    expect((await gw.frame('tenant-b', 'workspace:w1', 'c1', step1Msg())).ack).toBe(true);
  });

  it('save is answered only after every earlier update of the connection is durable, after their acks', async () => {
    const docId = 'body:w2/many.md';
    const client = new Y.Doc();
    const updates: Uint8Array[] = [];
    client.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 40; i++) client.getText('body').insert(0, `${i},`);
    const ids: string[] = [];
    for (const u of updates) {
      const msgId = `m${ids.length}`;
      ids.push(msgId);
      await gw.send({
        type: 'frame',
        msgId,
        gatewayId: gw.id,
        connId: 'saver',
        tenant: T,
        role: 'editor',
        docId,
        payload: updateMsg(u),
      });
    }
    await gw.save(T, docId, 'saver');
    // at the moment `saved` is observed, every row is in PostgreSQL ...
    expect((await rows(docId)).length).toBe(40);
    // ... and every frame was acknowledged before the saved answer
    const order = gw.received
      .map((r) => r.env)
      .filter((e) => (e.type === 'reply' && ids.includes(e.msgId)) || e.type === 'saved');
    expect(order.slice(0, 40).every((e) => e.type === 'reply')).toBe(true);
    expect(order[40]!.type).toBe('saved');
    const stored = await new PostgresStorage({ pool: env.pool, tenant: T }).loadDoc(docId);
    const d = new Y.Doc();
    Y.applyUpdate(d, stored!);
    expect(d.getText('body').toString()).toBe(client.getText('body').toString());
  });

  it('group commit: concurrent appends of a tenant share transactions', async () => {
    const batches: number[] = [];
    const committer = svc.committer as unknown as { opts: { onBatch?: (n: number, s: number) => void } };
    const original = committer.opts.onBatch;
    committer.opts.onBatch = (n, s) => {
      batches.push(n);
      original?.(n, s);
    };
    try {
      const docs = Array.from({ length: 30 }, (_, i) => `body:w2/gc-${i}.md`);
      // load them first so that the burst below is pure appends
      await Promise.all(docs.map((d) => gw.frame(T, d, 'g', step1Msg())));
      batches.length = 0;
      await Promise.all(docs.map((d) => gw.frame(T, d, 'g', updateMsg(textUpdate(d)))));
      expect(batches.reduce((a, b) => a + b, 0)).toBe(30);
      expect(batches.length).toBeLessThan(30);
      expect(Math.max(...batches)).toBeGreaterThan(1);
    } finally {
      committer.opts.onBatch = original;
    }
  });

  it('a burst on one doc: acks and broadcasts keep the arrival order, and every acked update is durable', async () => {
    const docId = 'body:w1/burst.md';
    await gw.watchDoc(T, docId);
    await gw.frame(T, docId, 'b', step1Msg());
    const client = new Y.Doc();
    const updates: Uint8Array[] = [];
    client.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 300; i++) client.getText('body').insert(client.getText('body').length, `${i % 10}`);
    const msgIds = updates.map((_, i) => `burst-${i}`);
    // published back to back on one connection, as a gateway forwards a client's frames
    await Promise.all(
      updates.map((u, i) =>
        gw.send({
          type: 'frame',
          msgId: msgIds[i] as string,
          gatewayId: gw.id,
          connId: 'b',
          tenant: T,
          role: 'editor',
          docId,
          payload: updateMsg(u),
        }),
      ),
    );
    const replies = () => gw.of('reply', (r) => r.msgId.startsWith('burst-'));
    await waitFor(() => replies().length === 300, 15_000, '300 replies');
    expect(replies().map((r) => r.msgId)).toEqual(msgIds);
    expect(replies().every((r) => r.ack)).toBe(true);
    // every acknowledged update is in PostgreSQL
    const stored = new Y.Doc();
    for (const r of await rows(docId)) Y.applyUpdate(stored, r.data);
    expect(stored.getText('body').toString()).toBe(client.getText('body').toString());
    // the broadcasts, applied in the order received, never wait for a missing dependency
    const broadcasts = await waitFor(
      () => {
        const b = gw.of('broadcast', (e) => e.docId === docId);
        return b.length >= 300 ? b : undefined;
      },
      15_000,
      '300 broadcasts',
    );
    const peer = new Y.Doc();
    for (const b of broadcasts) {
      for (const m of decodeMessages(b.payload)) if (m.type === 'update') Y.applyUpdate(peer, m.update);
      expect(peer.store.pendingStructs).toBeNull();
    }
    expect(peer.getText('body').toString()).toBe(client.getText('body').toString());
  });

  it('relays awareness and removes a leaving connection’s states for the others', async () => {
    const docId = 'body:w1/aw.md';
    await gw.watchDoc(T, docId);
    const cdoc = new Y.Doc();
    const { Awareness, encodeAwarenessUpdate } = jest.requireActual(
      'y-protocols/awareness',
    ) as typeof import('y-protocols/awareness');
    const aw = new Awareness(cdoc);
    aw.setLocalState({ user: 'ann' });
    const msg = encodeMessage({ type: 'awareness', update: encodeAwarenessUpdate(aw, [cdoc.clientID]) });
    await gw.frame(T, docId, 'ann', msg);
    const relayed = await waitFor(
      () => gw.of('broadcast', (b) => b.docId === docId)[0],
      3000,
      'awareness relay',
    );
    expect(Array.from(relayed.payload)).toEqual(Array.from(msg));
    // a connection new to the doc gets the current awareness states after its sync answer
    const q = await gw.frame(T, docId, 'bob', step1Msg());
    expect(q.payloads.map((p) => decodeMessages(p)[0]!.type)).toEqual([
      'syncStep2',
      'syncStep1',
      'awareness',
    ]);
    // ... once
    expect((await gw.frame(T, docId, 'bob', step1Msg())).payloads).toHaveLength(2);
    await gw.send({ type: 'leave', gatewayId: gw.id, connId: 'ann', tenant: T, docId });
    const removal = await waitFor(
      () => gw.of('broadcast', (b) => b.docId === docId && b.originConnId === 'ann' && b !== relayed)[0],
      3000,
      'awareness removal',
    );
    expect(decodeMessages(removal.payload)[0]!.type).toBe('awareness');
    aw.destroy();
  });

  it('ClusterClient.applyUpdate applies, persists with its origin and broadcasts a server-side update', async () => {
    const docId = 'body:w1/restored.md';
    await gw.watchDoc(T, docId);
    const client = new ClusterClient({
      redis: env.redis,
      prefix: env.prefix,
      shardCount: SHARDS,
      timeoutMs: 5000,
    });
    try {
      await client.applyUpdate({ tenant: T, docId, update: textUpdate('restored text'), origin: 'restore' });
      expect((await rows(docId)).map((r) => r.origin)).toEqual(['restore']);
      const bc = await waitFor(
        () => gw.of('broadcast', (b: BroadcastEnvelope) => b.docId === docId)[0],
        3000,
        'broadcast',
      );
      expect(bc.originGatewayId).toBe('');
      await expect(
        client.applyUpdate({ tenant: T, docId, update: new Uint8Array([9, 9, 9]), origin: 'restore' }),
      ).rejects.toMatchObject({ code: 'bad_payload' });
    } finally {
      await client.close();
    }
  });

  it('keeps everything across a restart (graceful stop flushes; a new instance reloads from PostgreSQL)', async () => {
    const docId = 'body:w1/a.md';
    const text = 'persisted across restart';
    await gw.frame(T, docId, 'c1', updateMsg(textUpdate(text)));
    await svc.stop();
    expect(await env.redis.keys(`${env.prefix}:shard:*:lease`)).toEqual([]); // leases released
    svc = await start();
    const reply = await gw.frame(T, docId, 'c1', step1Msg());
    const d = new Y.Doc();
    Y.applyUpdate(d, (decodeMessages(reply.payloads[0]!)[0] as { update: Uint8Array }).update);
    expect(d.getText('body').toString()).toContain('hello');
    expect(d.getText('body').toString()).toContain(text);
  });
});
