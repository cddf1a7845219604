/**
 * Composition root of a doc-service process: `node apps/doc-service/dist/main.js`.
 * Reads the environment (see README), fails fast when Redis or PostgreSQL is unreachable,
 * serves `/healthz` `/readyz` `/metrics` on PORT (default 8081), and on SIGTERM/SIGINT stops
 * taking frames, flushes, releases its shard leases and exits.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  assertPostgresReachable,
  assertRedisReachable,
  createLogger,
  createMetricsRegistry,
  createPgPool,
  createRedis,
  redisTopologyOf,
  startOpsServer,
} from '@diaryx-sync/runtime';
import { HistoryQueues } from '@diaryx-sync/bus';
import { loadDocServiceConfig } from './config';
import { DocService } from './doc-service';
import { InlineCompactionScheduler, QueueCompactionScheduler } from './persistence/compaction';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { loadMigrationSettings } from '@diaryx-sync/runtime';

async function main(): Promise<void> {
  const cfg = loadDocServiceConfig();
  const instanceId = cfg.DOC_SERVICE_ID ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const logger = createLogger('doc-service', cfg.LOG_LEVEL);

  const redisTopology = redisTopologyOf(cfg);
  await assertRedisReachable(redisTopology);
  await assertPostgresReachable(cfg.DATABASE_URL);
  const redis = createRedis(redisTopology);
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis error'));
  const pool = createPgPool(cfg.DATABASE_URL);
  const metrics = createMetricsRegistry({ service: 'doc-service', instanceId });

  // With the history worker: compaction jobs and quiet-period commit triggers go to its queues.
  const history =
    cfg.HISTORY_JOBS === 'on'
      ? new HistoryQueues({
          connect: () => createRedis(redisTopology),
          prefix: cfg.REDIS_PREFIX,
          quietMs: cfg.HISTORY_QUIET_MS,
          maxWaitMs: cfg.HISTORY_MAX_WAIT_MS,
        })
      : undefined;
  const compaction = history
    ? new QueueCompactionScheduler((tenant, docId) => history.enqueueCompaction({ tenant, docId }), logger)
    : new InlineCompactionScheduler({
        storage: new PostgresStorage({ pool, tenant: '_' }),
        keepUpdates: cfg.COMPACT_KEEP_UPDATES,
        logger,
      });

  const service = new DocService({
    redis,
    pool,
    prefix: cfg.REDIS_PREFIX,
    shardCount: cfg.SHARD_COUNT,
    instanceId,
    logger,
    metrics,
    schema: (({ migrateOnStart, lockTimeoutMs }) => ({ migrate: migrateOnStart, lockTimeoutMs }))(
      loadMigrationSettings(),
    ),
    leaseTtlMs: cfg.LEASE_TTL_MS,
    leaseRenewMs: cfg.LEASE_RENEW_MS,
    leaseRenewalRedis: redisTopology,
    maxLoadedDocs: cfg.MAX_LOADED_DOCS,
    docIdleMs: cfg.DOC_IDLE_MS,
    compactionThreshold: cfg.COMPACTION_THRESHOLD,
    compactKeepUpdates: cfg.COMPACT_KEEP_UPDATES,
    compaction,
    touchWorkspace: history ? (tenant, workspace) => history.touchWorkspace(tenant, workspace) : undefined,
    fileEvents: history ? (data) => history.enqueueFileEvents(data) : undefined,
    fileEventDebounceMs: cfg.WEBHOOK_DEBOUNCE_MS,
  });

  const ops = await startOpsServer({
    port: cfg.PORT,
    host: cfg.BIND_HOST,
    registry: metrics.registry,
    ready: async () => {
      const redisOk = (await redis.ping().catch(() => 'down')) === 'PONG';
      const pgOk = await pool.query('SELECT 1').then(
        () => true,
        () => false,
      );
      const stats = service.stats();
      return {
        ready: redisOk && pgOk && service.ready,
        checks: {
          redis: redisOk,
          postgres: pgOk,
          serving: service.ready,
          shards: stats.shards.length,
          docs_loaded: stats.docsLoaded,
        },
      };
    },
  });
  await service.start();
  logger.info(
    { port: ops.port, shardCount: cfg.SHARD_COUNT, prefix: cfg.REDIS_PREFIX },
    'doc service listening',
  );

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: flushing and releasing shard leases');
    ops.setDraining();
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 20000);
    force.unref();
    void (async () => {
      try {
        await service.stop();
        await history?.close();
        await ops.close();
        metrics.stop();
        await redis.quit().catch(() => undefined);
        await pool.end().catch(() => undefined);
        process.exit(0);
      } catch (err) {
        logger.error({ err: (err as Error).message }, 'shutdown failed');
        process.exit(1);
      }
    })();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`doc-service: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
