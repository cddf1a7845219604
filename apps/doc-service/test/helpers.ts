/** Test helpers: isolated PostgreSQL schema + Redis prefix, a fake gateway speaking the bus. */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  BusPubSub,
  publishOnBus,
  decodeEnvelope,
  docChannel,
  encodeEnvelope,
  gatewayChannel,
  shardInboxChannel,
  shardOf,
  workspaceChannel,
  type Envelope,
  type InboxEnvelope,
  type ReplyEnvelope,
} from '@diaryx-sync/bus';
import { encodeMessage, type Role } from '@diaryx-sync/protocol';
import { createLogger, type Logger } from '@diaryx-sync/runtime';
import { Redis, type Cluster } from 'ioredis';
import { Pool } from 'pg';
import * as Y from 'yjs';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh schema and Redis prefix for one test file. */
export interface TestEnv {
  schema: string;
  prefix: string;
  pool: Pool;
  redis: Redis;
  logger: Logger;
  newPool(): Pool;
  close(): Promise<void>;
}

export async function createTestEnv(): Promise<TestEnv> {
  const id = randomBytes(5).toString('hex');
  const schema = `t_ds_${id}`;
  const prefix = `tds${id}`;
  const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const pools: Pool[] = [];
  const newPool = () => {
    const p = new Pool({ connectionString: DATABASE_URL, max: 5, options: `-c search_path=${schema}` });
    p.on('error', () => undefined);
    pools.push(p);
    return p;
  };
  const pool = newPool();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const logger = createLogger('doc-service-test', process.env.TEST_LOG_LEVEL ?? 'silent');
  return {
    schema,
    prefix,
    pool,
    redis,
    logger,
    newPool,
    async close() {
      for (const p of pools) await p.end().catch(() => undefined);
      const a = new Pool({ connectionString: DATABASE_URL, max: 1 });
      await a.query(`DROP SCHEMA ${schema} CASCADE`);
      await a.end();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      redis.disconnect();
    },
  };
}

/** Waits until `pred` returns a truthy value (polling), or throws after `timeoutMs`. */
export async function waitFor<T>(
  pred: () => T | Promise<T>,
  timeoutMs = 10000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A y-protocols Update message carrying `update`. */
export const updateMsg = (update: Uint8Array) => encodeMessage({ type: 'update', update });
/** A SyncStep1 message for `doc` (or an empty doc). */
export const step1Msg = (doc?: Y.Doc) =>
  encodeMessage({ type: 'syncStep1', stateVector: Y.encodeStateVector(doc ?? new Y.Doc()) });

/** An update that inserts `text` into the `body` text of a fresh client doc. */
export function textUpdate(text: string, doc = new Y.Doc()): Uint8Array {
  let captured: Uint8Array | null = null;
  doc.on('update', (u: Uint8Array) => (captured = u));
  doc.getText('body').insert(doc.getText('body').length, text);
  return captured!;
}

/** An update that sets a workspace file entry (JSON string value). */
export function fileUpdate(path: string, meta: Record<string, unknown>, doc = new Y.Doc()): Uint8Array {
  let captured: Uint8Array | null = null;
  doc.on('update', (u: Uint8Array) => (captured = u));
  doc.getMap('files').set(path, JSON.stringify(meta));
  return captured!;
}

/**
 * A gateway stand-in: publishes inbox envelopes, collects everything sent back to it. Speaks the
 * bus over any topology (`BusPubSub`: sharded pub/sub on a Redis Cluster).
 */
export class FakeGateway {
  readonly id: string;
  readonly received: { channel: string; env: Envelope }[] = [];
  private readonly sub: BusPubSub;

  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly shardCount: number,
    id?: string,
  ) {
    this.id = id ?? `gw-${randomUUID().slice(0, 8)}`;
    this.sub = new BusPubSub({
      redis,
      onMessage: (channel, msg) => this.received.push({ channel, env: decodeEnvelope(msg) }),
    });
  }

  async start(): Promise<this> {
    await this.sub.subscribe(gatewayChannel(this.prefix, this.id));
    return this;
  }

  async watchDoc(tenant: string, docId: string): Promise<void> {
    await this.sub.subscribe(docChannel(this.prefix, tenant, docId));
  }

  async watchWorkspace(tenant: string, workspace: string): Promise<void> {
    await this.sub.subscribe(workspaceChannel(this.prefix, tenant, workspace));
  }

  /** Publishes to the doc's shard inbox; resolves to the number of receivers. */
  async send(env: InboxEnvelope): Promise<number> {
    const shard = shardOf(env.tenant, env.docId, this.shardCount);
    return publishOnBus(this.redis, shardInboxChannel(this.prefix, shard), Buffer.from(encodeEnvelope(env)));
  }

  /** Envelopes of one type (optionally filtered). */
  of<T extends Envelope['type']>(
    type: T,
    pred: (e: Extract<Envelope, { type: T }>) => boolean = () => true,
  ): Extract<Envelope, { type: T }>[] {
    return this.received
      .map((r) => r.env)
      .filter(
        (e): e is Extract<Envelope, { type: T }> =>
          e.type === type && pred(e as Extract<Envelope, { type: T }>),
      );
  }

  /** Sends a frame and waits for its reply (re-sending like a gateway while nobody answers). */
  async frame(
    tenant: string,
    docId: string,
    connId: string,
    payload: Uint8Array,
    role: Role = 'editor',
    timeoutMs = 10000,
  ): Promise<ReplyEnvelope> {
    const msgId = randomUUID();
    const env: InboxEnvelope = {
      type: 'frame',
      msgId,
      gatewayId: this.id,
      connId,
      tenant,
      role,
      docId,
      payload,
    };
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.send(env);
      const until = Math.min(deadline, Date.now() + 750);
      while (Date.now() < until) {
        const err = this.of('error', (e) => e.msgId === msgId)[0];
        if (err) throw new Error(`error ${err.code}: ${err.message}`);
        const reply = this.of('reply', (e) => e.msgId === msgId)[0];
        if (reply) return reply;
        await sleep(10);
      }
      if (Date.now() >= deadline) throw new Error(`no reply for frame on ${docId}`);
    }
  }

  /** Sends `save` and waits for `saved`. */
  async save(tenant: string, docId: string, connId: string, timeoutMs = 10000): Promise<void> {
    const msgId = randomUUID();
    await this.send({ type: 'save', msgId, gatewayId: this.id, connId, tenant, docId });
    await waitFor(() => this.of('saved', (e) => e.msgId === msgId).length > 0, timeoutMs, 'saved');
  }

  close(): void {
    this.sub.close();
  }
}
