/**
 * ClusterLink against real Redis: a reply whose payload was stored by reference is delivered
 * with its bytes and in the order Redis delivered the envelopes; an expired one becomes an
 * `unavailable` error (the gateway re-sends the frame).
 */
import { randomBytes } from 'node:crypto';
import {
  encodeEnvelope,
  type Envelope,
  gatewayChannel,
  INLINE_PAYLOAD_MAX_BYTES,
  PayloadStore,
  payloadKey,
} from '@diaryx-sync/bus';
import { createLogger } from '@diaryx-sync/runtime';
import { Redis } from 'ioredis';
import { ClusterLink, type DeliveredReplyChannelEnvelope } from '../src/sync/cluster-link';

jest.setTimeout(30000);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('ClusterLink: stored reply payloads (real Redis)', () => {
  const prefix = `tlink${randomBytes(4).toString('hex')}`;
  const gatewayId = 'gw-test';
  let redis: Redis;
  let link: ClusterLink;
  const delivered: DeliveredReplyChannelEnvelope[] = [];

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const ignore = () => undefined;
    link = new ClusterLink({
      redis,
      prefix,
      shardCount: 4,
      gatewayId,
      logger: createLogger('test', 'silent'),
      handlers: {
        onReplyChannel: (env) => delivered.push(env),
        onBroadcast: ignore,
        onWorkspaceEvent: ignore,
        onShardAcquired: ignore,
        onWorkspaceDeleted: ignore,
        onShareRevoked: ignore,
        onWorkspaceEnded: ignore,
        onResubscribed: ignore,
      },
    });
    await link.start();
  });

  afterAll(async () => {
    await link.close();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const publish = async (env: Envelope) => {
    await redis.publish(gatewayChannel(prefix, gatewayId), Buffer.from(encodeEnvelope(env)));
  };
  const reply = (msgId: string, payloads: (Uint8Array | { key: string })[]): Envelope => ({
    type: 'reply',
    connId: 'c1',
    docId: 'workspace:w',
    msgId,
    payloads,
    readOnlyViolation: false,
    ack: true,
    syncComplete: null,
  });

  it('delivers the stored bytes, and everything after the reply only after it', async () => {
    delivered.length = 0;
    const big = new Uint8Array(randomBytes(INLINE_PAYLOAD_MAX_BYTES * 4));
    const [ref] = await new PayloadStore({ redis, prefix }).offload('t', [big]);
    await publish(reply('1', [Uint8Array.of(0, 1), ref as { key: string }]));
    await publish({ type: 'saved', connId: 'c1', docId: 'workspace:w', msgId: '2' });
    await publish(reply('3', [Uint8Array.of(0, 2)]));
    const deadline = Date.now() + 10_000;
    while (delivered.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(delivered.map((e) => e.msgId)).toEqual(['1', '2', '3']);
    const first = delivered[0];
    if (first?.type !== 'reply') throw new Error('expected a reply first');
    expect(first.payloads).toHaveLength(2);
    expect(Buffer.compare(Buffer.from(first.payloads[1] as Uint8Array), Buffer.from(big))).toBe(0);
  });

  it('an expired payload becomes an unavailable error for that frame, in place', async () => {
    delivered.length = 0;
    await publish(reply('4', [{ key: payloadKey(prefix, 't', '00'.repeat(32)) }]));
    await publish(reply('5', [Uint8Array.of(0, 3)]));
    const deadline = Date.now() + 10_000;
    while (delivered.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(delivered.map((e) => [e.type, e.msgId])).toEqual([
      ['error', '4'],
      ['reply', '5'],
    ]);
    expect(delivered[0]).toMatchObject({ code: 'unavailable' });
  });
});
