/**
 * ClusterClient and heartbeats against real Redis, with a minimal shard-owner stand-in that
 * answers `apply` envelopes (the doc-service tests cover the real owner).
 */
import { randomBytes } from 'node:crypto';
import {
  ClusterClient,
  ClusterRequestError,
  decodeEnvelopeOf,
  encodeEnvelope,
  gatewayChannel,
  listInstances,
  shardInboxChannel,
  shardOf,
  startHeartbeat,
} from '@diaryx-sync/bus';
import { Redis } from 'ioredis';

// integration test against real services: the default 5 s per test is too tight on a busy machine
jest.setTimeout(30000);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('ClusterClient (real Redis)', () => {
  const prefix = `tbus${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let owner: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    owner = redis.duplicate();
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    owner.disconnect();
    redis.disconnect();
  });

  it('publishes to the owning shard inbox, re-sends while nobody listens, resolves on applied', async () => {
    const shard = shardOf('t', 'body:w/a.md', 16);
    const seen: string[] = [];
    const client = new ClusterClient({ redis, prefix, shardCount: 16, timeoutMs: 5000, resendMs: 300 });
    const pending = client.applyUpdate({
      tenant: 't',
      docId: 'body:w/a.md',
      update: new Uint8Array([1, 2]),
      origin: 'restore',
    });
    await new Promise((r) => setTimeout(r, 400)); // no owner yet: the request is re-sent
    owner.on('messageBuffer', (_ch: Buffer, msg: Buffer) => {
      const env = decodeEnvelopeOf(msg, ['apply']);
      seen.push(env.msgId);
      expect(env).toMatchObject({ tenant: 't', docId: 'body:w/a.md', origin: 'restore' });
      expect(Array.from(env.update)).toEqual([1, 2]);
      void redis.publish(
        gatewayChannel(prefix, env.replyTo),
        Buffer.from(encodeEnvelope({ type: 'applied', msgId: env.msgId, docId: env.docId })),
      );
    });
    await owner.subscribe(shardInboxChannel(prefix, shard));
    await expect(pending).resolves.toBeUndefined();
    expect(seen.length).toBeGreaterThanOrEqual(1);
    await client.close();
  });

  it('rejects with the owner error code, and with timeout when nobody answers', async () => {
    const client = new ClusterClient({ redis, prefix, shardCount: 16, timeoutMs: 600, resendMs: 100 });
    const errOwner = redis.duplicate();
    const docId = 'body:w/bad.md';
    errOwner.on('messageBuffer', (_ch: Buffer, msg: Buffer) => {
      const env = decodeEnvelopeOf(msg, ['apply']);
      void redis.publish(
        gatewayChannel(prefix, env.replyTo),
        Buffer.from(
          encodeEnvelope({
            type: 'error',
            connId: '',
            docId,
            msgId: env.msgId,
            code: 'bad_payload',
            message: 'bad update',
          }),
        ),
      );
    });
    await errOwner.subscribe(shardInboxChannel(prefix, shardOf('t', docId, 16)));
    await expect(
      client.applyUpdate({ tenant: 't', docId, update: new Uint8Array([9]), origin: 'x' }),
    ).rejects.toMatchObject({
      name: 'ClusterRequestError',
      code: 'bad_payload',
    });
    errOwner.disconnect();
    const t0 = Date.now();
    const err = await client
      .applyUpdate({ tenant: 'nobody', docId: 'body:w/x.md', update: new Uint8Array([1]), origin: 'x' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClusterRequestError);
    expect((err as ClusterRequestError).code).toBe('timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    await client.close();
    await expect(
      client.applyUpdate({ tenant: 't', docId, update: new Uint8Array([1]), origin: 'x' }),
    ).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('heartbeats (real Redis)', () => {
  const prefix = `tbus${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  });
  afterAll(() => redis.disconnect());

  it('writes a JSON record with a TTL, lists live instances, and removes it on stop', async () => {
    let n = 0;
    const hb = startHeartbeat({
      redis,
      prefix,
      kind: 'doc-service',
      id: 'ds-1',
      intervalMs: 100,
      ttlMs: 400,
      extra: () => ({ shards: [1, 2], docs_loaded: n++ }),
    });
    const gw = startHeartbeat({ redis, prefix, kind: 'gateway', id: 'gw-1', intervalMs: 100, ttlMs: 400 });
    await new Promise((r) => setTimeout(r, 250));
    const all = await listInstances(redis, prefix);
    expect(all.map((i) => `${i.kind}/${i.id}`)).toEqual(['doc-service/ds-1', 'gateway/gw-1']);
    const [ds] = await listInstances(redis, prefix, 'doc-service');
    expect(ds).toMatchObject({ id: 'ds-1', kind: 'doc-service', shards: [1, 2] });
    expect(Number.isNaN(Date.parse(ds!.started_at))).toBe(false);
    expect(Date.parse(ds!.updated_at)).toBeGreaterThanOrEqual(Date.parse(ds!.started_at));
    const ttl = await redis.pttl(`${prefix}:instance:doc-service:ds-1`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(400);
    await hb.stop();
    expect(await listInstances(redis, prefix, 'doc-service')).toEqual([]);
    await gw.stop();
    expect(await listInstances(redis, prefix)).toEqual([]);
  });
});
