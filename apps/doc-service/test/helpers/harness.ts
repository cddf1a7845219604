/**
 * Shared setup of the doc-service integration tests: the options every in-process `DocService`
 * of a test starts from, a fresh test environment with a fake gateway, the DATABASE_URL a
 * spawned process needs to see the test file's schema, a pool whose traffic can be held, and the
 * stored text of a body doc.
 */
import { randomUUID } from 'node:crypto';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { ANY_WORKSPACE, type DocServiceOptions } from '@diaryx-sync/doc-service';
import { Pool } from 'pg';
import * as Y from 'yjs';
import { createTestEnv, DATABASE_URL, FakeGateway, type TestEnv } from '../helpers';
import { DelayProxy } from './delay-proxy';

/**
 * Options of an in-process doc service on the test environment: its Redis, pool, prefix and
 * logger, no heartbeat, every workspace accepted, lease TTL 4 s. `overrides` replace or add single
 * options.
 */
export function docServiceOptions(
  env: TestEnv,
  shardCount: number,
  overrides: Partial<DocServiceOptions> = {},
): DocServiceOptions {
  return {
    redis: env.redis,
    pool: env.pool,
    prefix: env.prefix,
    shardCount,
    logger: env.logger,
    heartbeat: false,
    workspaceDirectory: ANY_WORKSPACE,
    // tests renew on a main-thread timer (no compiled worker): a TTL that tolerates a loaded
    // machine; the fencing/failover tests set their own
    leaseTtlMs: 4000,
    leaseRenewMs: 1000,
    ...overrides,
  };
}

/** A started fake gateway on the test environment's Redis and prefix. */
export const startFakeGateway = (env: TestEnv, shardCount: number, id?: string): Promise<FakeGateway> =>
  new FakeGateway(env.redis, env.prefix, shardCount, id).start();

/** A fresh test environment (schema + Redis prefix) and a started fake gateway on it. */
export async function startEnvWithGateway(shardCount: number): Promise<{ env: TestEnv; gw: FakeGateway }> {
  const env = await createTestEnv();
  const gw = await startFakeGateway(env, shardCount);
  return { env, gw };
}

/** DATABASE_URL for a spawned doc-service process: the test database with the env's schema. */
export const databaseUrlFor = (env: TestEnv): string =>
  `${DATABASE_URL}?options=-c%20search_path%3D${env.schema}`;

/**
 * A pool on the env's schema whose traffic goes through a {@link DelayProxy}, so a test can hold
 * a doc service's database writes in flight. Close with {@link closeDelayedPool}.
 */
export async function startDelayedPool(env: TestEnv): Promise<{ proxy: DelayProxy; pool: Pool }> {
  const db = new URL(DATABASE_URL);
  const proxy = await DelayProxy.start(Number(db.port || 5432), db.hostname);
  db.host = `127.0.0.1:${proxy.port}`;
  const pool = new Pool({
    connectionString: db.toString(),
    max: 3,
    options: `-c search_path=${env.schema}`,
  });
  pool.on('error', () => undefined);
  return { proxy, pool };
}

/** Releases what the proxy holds, ends the pool and closes the proxy (each part may be missing). */
export async function closeDelayedPool(proxy: DelayProxy | undefined, pool: Pool | undefined): Promise<void> {
  proxy?.release();
  await pool?.end().catch(() => undefined);
  await proxy?.close();
}

/** The body text of `docId` as stored in PostgreSQL for `tenant`. */
export async function storedBodyText(env: TestEnv, tenant: string, docId: string): Promise<string> {
  const state = await new PostgresStorage({ pool: env.pool, tenant }).loadDoc(docId);
  const doc = new Y.Doc();
  if (state) Y.applyUpdate(doc, state);
  return doc.getText('body').toString();
}

/**
 * Publishes one editor frame for `docId` without waiting for (or re-sending towards) a reply, as
 * a gateway does right before it loses track of the owner; resolves to the frame's `msgId`.
 */
export async function sendFrameOnce(
  gw: FakeGateway,
  tenant: string,
  docId: string,
  connId: string,
  payload: Uint8Array,
): Promise<string> {
  const msgId = randomUUID();
  await gw.send({ type: 'frame', msgId, gatewayId: gw.id, connId, tenant, role: 'editor', docId, payload });
  return msgId;
}
