/**
 * The gateway the /ops tests run against: in-process (real Nest app, its own PostgreSQL schema
 * and Redis prefix) with a Redis client on the test Redis; stopping it removes every key of its
 * prefix and of its job queues, then the gateway and its schema.
 */
import { queuePrefix } from '@diaryx-sync/bus';
import { createRedis, type RedisClient } from '@diaryx-sync/runtime';
import {
  REDIS_URL,
  type GatewayHarness,
  dropSchema,
  startGateway,
} from '../../../apps/gateway/test/api-harness';

/** Starts the gateway (with `env` added to its environment) and a Redis client. */
export async function startOpsGateway(
  env: Record<string, string> = {},
): Promise<{ gw: GatewayHarness; redis: RedisClient }> {
  const gw = await startGateway(env);
  const redis = createRedis({ kind: 'single', url: REDIS_URL });
  return { gw, redis };
}

/** Deletes the gateway's Redis keys (bus and queues), disconnects, closes it and drops its schema. */
export async function stopOpsGateway(gw: GatewayHarness, redis: RedisClient): Promise<void> {
  const keys = [
    ...(await redis.keys(`${gw.prefix}:*`)),
    ...(await redis.keys(`${queuePrefix(gw.prefix)}:*`)),
  ];
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await gw.close();
  await dropSchema(gw.schema);
}
