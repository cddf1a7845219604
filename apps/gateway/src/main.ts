/**
 * Composition root of the gateway process: parse config, fail fast when Redis or PostgreSQL is
 * unreachable (saying how to start them), build the Nest app, listen on PORT (default 8080), and
 * shut down gracefully on SIGTERM/SIGINT (readiness goes 503, sockets drain with 1001, connections
 * close), exiting 0; a second signal or the shutdown deadline exits 1.
 */
import 'reflect-metadata';
import {
  ConfigError,
  DependencyUnavailableError,
  assertPostgresReachable,
  assertRedisReachable,
  describeRedis,
  redisTopologyOf,
  createLogger,
  redactUrl,
} from '@diaryx-sync/runtime';
import { loadGatewayConfig } from './config/gateway-config';
import { createGatewayApp } from './gateway-app';

const SHUTDOWN_DEADLINE_MS = 20_000;

async function main(): Promise<void> {
  const config = loadGatewayConfig(process.env);
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const redisTopology = redisTopologyOf(config);
  await assertRedisReachable(redisTopology);
  await assertPostgresReachable(config.DATABASE_URL);

  const app = await createGatewayApp(config, { logger });
  await app.listen(config.PORT, config.BIND_HOST);
  logger.info(
    {
      port: config.PORT,
      host: config.BIND_HOST,
      redis: describeRedis(redisTopology),
      database: redactUrl(config.DATABASE_URL),
      prefix: config.REDIS_PREFIX,
    },
    `gateway listening on :${config.PORT}`,
  );

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown deadline exceeded: exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    app.close().then(
      () => {
        logger.info('gateway stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof DependencyUnavailableError) {
    process.stderr.write(`gateway: ${err.message}\n`);
  } else {
    process.stderr.write(
      `gateway: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
  process.exit(1);
});
