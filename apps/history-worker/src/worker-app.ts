/**
 * Builds and starts a complete history-worker instance (used by `main.ts` and by tests that run
 * several workers in one process): fail-fast dependency checks, migrations, BullMQ workers,
 * `/healthz` `/readyz` `/metrics`, heartbeat, queue-depth metrics.
 */
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import {
  assertPostgresReachable,
  assertRedisReachable,
  createLogger,
  createMetrics,
  createPgPool,
  createRedis,
  redisTopologyOf,
  DependencyUnavailableError,
  loadMigrationSettings,
  startOpsServer,
  type Logger,
} from '@diaryx-sync/runtime';
import { ClusterClient, startHeartbeat, HistoryQueues } from '@diaryx-sync/bus';
import {
  CRDT_MIGRATIONS,
  CRDT_MIGRATIONS_TABLE,
  PostgresStorage,
  prepareSchema,
} from '@diaryx-sync/crdt/postgres';
import { ObjectStorage } from '@diaryx-sync/objstore';
import {
  AuditLog,
  WebhookDeliveryLog,
  WebhookStore,
  GitStore,
  HISTORY_MIGRATIONS,
  HISTORY_MIGRATIONS_TABLE,
  HealthStore,
} from '@diaryx-sync/git-store';
import type { WorkerConfig } from './config';
import { startHistoryWorkers } from './history-workers';
import type { ApplyUpdate, JobContext } from './jobs/job-context';
import { createCrdtWorkspaceModel } from './workspace/crdt-workspace-model';

/** A running worker instance. */
export interface WorkerApp {
  id: string;
  /** Port of the ops server. */
  port: number;
  ctx: JobContext;
  /** Graceful stop: readiness off, drain jobs (unfinished ones go back to the queue), close everything. */
  close(): Promise<void>;
}

async function assertS3Reachable(objects: ObjectStorage, endpoint: string): Promise<void> {
  try {
    await objects.ensureBucket();
  } catch (err) {
    throw new DependencyUnavailableError(
      `S3 is not reachable at ${endpoint} (${(err as Error).message}). Start MinIO or the embedded s3rver ` +
        `(npm start does), or set S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY/S3_BUCKET.`,
    );
  }
}

/** Optional overrides (tests). */
export interface WorkerAppOptions {
  logger?: Logger;
  /** Replaces `ClusterClient.applyUpdate` (worker-level tests without a running cluster). */
  applyUpdate?: ApplyUpdate;
}

/** Starts a worker; throws `DependencyUnavailableError` when Redis, PostgreSQL or S3 is down. */
export async function startWorkerApp(
  config: WorkerConfig,
  options: WorkerAppOptions = {},
): Promise<WorkerApp> {
  const id = `history-worker-${randomUUID().slice(0, 8)}`;
  const log = options.logger ?? createLogger('history-worker', config.LOG_LEVEL);
  const redisTopology = redisTopologyOf(config);
  await assertRedisReachable(redisTopology);
  await assertPostgresReachable(config.DATABASE_URL);
  const objects = new ObjectStorage({
    endpoint: config.S3_ENDPOINT,
    accessKey: config.S3_ACCESS_KEY,
    secretKey: config.S3_SECRET_KEY,
    bucket: config.S3_BUCKET,
    region: config.S3_REGION,
  });
  await assertS3Reachable(objects, config.S3_ENDPOINT);

  const pool = createPgPool(config.DATABASE_URL);
  // MIGRATE_ON_START=false (production): only check what the `migrate` command applied.
  const migrations = loadMigrationSettings();
  await prepareSchema(
    pool,
    [
      { table: CRDT_MIGRATIONS_TABLE, migrations: CRDT_MIGRATIONS },
      { table: HISTORY_MIGRATIONS_TABLE, migrations: HISTORY_MIGRATIONS },
    ],
    { migrate: migrations.migrateOnStart, lockTimeoutMs: migrations.lockTimeoutMs },
  );
  const git = new GitStore(objects, pool, { objectCacheBytes: config.GIT_OBJECT_CACHE_BYTES });

  const connect = () => createRedis(redisTopology);
  const redis = connect();
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis error'));
  const cluster = new ClusterClient({
    redis,
    prefix: config.REDIS_PREFIX,
    shardCount: config.SHARD_COUNT,
    timeoutMs: config.HISTORY_APPLY_TIMEOUT_MS,
  });
  const queues = new HistoryQueues({
    connect,
    prefix: config.REDIS_PREFIX,
    quietMs: config.HISTORY_QUIET_MS,
    maxWaitMs: config.HISTORY_MAX_WAIT_MS,
  });
  const metrics = createMetrics(new Registry(), { service: 'history-worker', instanceId: id });
  const storages = new Map<string, PostgresStorage>();
  const storageFor = (tenant: string) => {
    let s = storages.get(tenant);
    if (!s) storages.set(tenant, (s = new PostgresStorage({ pool, tenant })));
    return s;
  };

  const shutdown = { value: false };
  const ctx: JobContext = {
    config,
    redis,
    log,
    metrics,
    objects,
    git,
    health: new HealthStore(pool),
    audit: new AuditLog(pool),
    webhooks: new WebhookStore(pool),
    webhookDeliveries: new WebhookDeliveryLog(pool),
    queues,
    tenantIds: async () =>
      (await pool.query<{ id: string }>('SELECT id FROM tenants ORDER BY id')).rows.map((r) => r.id),
    storageFor,
    model: createCrdtWorkspaceModel(storageFor),
    applyUpdate: options.applyUpdate ?? ((req) => cluster.applyUpdate(req)),
    shuttingDown: () => shutdown.value,
  };

  // Every worker (re)states the schedule: an upsert, so the last started worker's interval wins.
  await queues.scheduleAttachmentGcSweep(config.ATTACHMENT_GC_INTERVAL_MS);

  const workers = startHistoryWorkers(
    ctx,
    {
      connect,
      prefix: config.REDIS_PREFIX,
      concurrency: config.HISTORY_CONCURRENCY,
      drainTimeoutMs: config.HISTORY_DRAIN_TIMEOUT_MS,
      lockDurationMs: config.HISTORY_JOB_LOCK_MS,
    },
    shutdown,
  );
  await workers.ready();

  let depths: Awaited<ReturnType<HistoryQueues['depths']>> | null = null;
  const pollDepths = async () => {
    try {
      depths = await queues.depths();
      for (const [queue, states] of Object.entries(depths)) {
        for (const [state, n] of Object.entries(states)) metrics.jobs.queueDepth.set({ queue, state }, n);
      }
    } catch (err) {
      log.debug({ err: (err as Error).message }, 'queue depth poll failed');
    }
  };
  void pollDepths();
  const depthTimer = setInterval(() => void pollDepths(), 5000);
  depthTimer.unref();

  const heartbeat = startHeartbeat({
    redis,
    prefix: config.REDIS_PREFIX,
    kind: 'history-worker',
    id,
    extra: () => ({
      active_jobs: workers.active(),
      concurrency: config.HISTORY_CONCURRENCY,
      queues: depths ?? {},
    }),
    onError: (err) => log.warn({ err: err.message }, 'heartbeat failed'),
  });

  const ops = await startOpsServer({
    port: config.PORT,
    host: config.BIND_HOST,
    registry: metrics.registry,
    ready: async () => {
      const checks = await Promise.allSettled([
        redis.ping(),
        pool.query('SELECT 1'),
        objects.assertReachable(),
      ]);
      const [r, p, s] = checks.map((x) => (x.status === 'fulfilled' ? 'ok' : 'down'));
      return {
        ready: checks.every((x) => x.status === 'fulfilled'),
        checks: { redis: r, postgres: p, s3: s },
      };
    },
  });
  log.info({ id, port: ops.port, concurrency: config.HISTORY_CONCURRENCY }, 'history worker started');

  let closing: Promise<void> | null = null;
  return {
    id,
    port: ops.port,
    ctx,
    close() {
      closing ??= (async () => {
        ops.setDraining();
        clearInterval(depthTimer);
        await workers.close();
        await heartbeat.stop();
        await cluster.close();
        await queues.close();
        metrics.stop();
        await ops.close();
        redis.disconnect();
        await pool.end().catch(() => undefined);
        log.info({ id }, 'history worker stopped');
      })();
      return closing;
    },
  };
}
