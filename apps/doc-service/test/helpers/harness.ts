/**
 * Shared setup of the doc-service integration tests: the options every in-process `DocService`
 * of a test starts from, a fresh test environment with a fake gateway, and the DATABASE_URL a
 * spawned process needs to see the test file's schema.
 */
import { ANY_WORKSPACE, type DocServiceOptions } from '@diaryx-sync/doc-service';
import { createTestEnv, DATABASE_URL, FakeGateway, type TestEnv } from '../helpers';

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
