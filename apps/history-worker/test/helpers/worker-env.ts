/** Isolated PostgreSQL schema + Redis prefix + embedded S3 for one test file. */
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { Redis } from 'ioredis';
import { ObjectStorage } from '@diaryx-sync/objstore';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { queuePrefix } from '@diaryx-sync/bus';
import { loadWorkerConfig, type WorkerConfig } from '../../src/config';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface WorkerTestEnv {
  schema: string;
  prefix: string;
  pool: Pool;
  redis: Redis;
  s3: EmbeddedS3;
  objects: ObjectStorage;
  config(overrides?: Record<string, string>): WorkerConfig;
  storage(tenant: string): PostgresStorage;
  close(): Promise<void>;
}

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export async function createWorkerTestEnv(): Promise<WorkerTestEnv> {
  const id = randomBytes(5).toString('hex');
  const schema = `t_${id}`;
  const prefix = `t${id}`;
  const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = new Pool({ connectionString: DATABASE_URL, max: 5, options: `-c search_path=${schema}` });
  await PostgresStorage.migrate(pool);
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const s3 = await startEmbeddedS3({ port: 0 });
  const storages = new Map<string, PostgresStorage>();
  return {
    schema,
    prefix,
    pool,
    redis,
    s3,
    objects: new ObjectStorage(s3.config),
    config: (overrides = {}) =>
      loadWorkerConfig({
        DATABASE_URL: withSearchPath(DATABASE_URL, schema),
        REDIS_URL,
        REDIS_PREFIX: prefix,
        S3_ENDPOINT: s3.endpoint,
        S3_BUCKET: s3.config.bucket,
        PORT: '0',
        LOG_LEVEL: 'silent',
        HISTORY_QUIET_MS: '300',
        HISTORY_LOCK_WAIT_MS: '20000',
        ...overrides,
      }),
    storage(tenant) {
      let s = storages.get(tenant);
      if (!s) storages.set(tenant, (s = new PostgresStorage({ pool, tenant })));
      return s;
    },
    async close() {
      for (const pattern of [`${prefix}:*`, `${queuePrefix(prefix)}:*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await redis.del(...keys);
        } while (cursor !== '0');
      }
      redis.disconnect();
      await pool.end();
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
      await s3.stop();
    },
  };
}
