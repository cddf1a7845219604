#!/usr/bin/env node
/**
 * `npm run test:redis-cluster` (docs/redis.md): builds, starts a private Redis Cluster
 * (3 masters + 3 replicas on free loopback ports, `redis-server --cluster-enabled yes` +
 * `redis-cli --cluster create`), then runs against it, with REDIS_CLUSTER_NODES set:
 *
 * - the cluster convergence and save/ack tests (`cluster-sync`), the doc-service failover
 *   test with acknowledged-update checks (`cluster-durability`), each on this shared cluster;
 * - the Redis Cluster test in its full size (`redis-cluster`, REDIS_CLUSTER_FULL=1: sharded
 *   pub/sub locality via MONITOR, one master SIGKILLed mid-run), on its own private cluster;
 * - the PostgreSQL-fence test of a Redis failover that lost a lease (`redis-failover-fence`).
 *
 * Exit code: jest's. Extra arguments go to jest.
 */
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
require('@swc-node/register');
const { startRedisCluster } = require(path.join(root, 'apps/gateway/test/helpers/redis-cluster.ts'));

async function main() {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const redis = await startRedisCluster({ masters: 3, replicas: 1 });
  console.log(`Redis Cluster up: ${redis.seedList}`);
  let status = 1;
  try {
    const res = spawnSync(
      'npx',
      [
        'jest',
        '--runInBand',
        'apps/gateway/test/cluster-sync',
        'apps/gateway/test/cluster-durability',
        'apps/gateway/test/redis-cluster',
        'apps/doc-service/test/redis-failover-fence',
        ...process.argv.slice(2),
      ],
      {
        cwd: root,
        stdio: 'inherit',
        env: { ...process.env, REDIS_CLUSTER_NODES: redis.seedList, REDIS_CLUSTER_FULL: '1' },
      },
    );
    status = res.status ?? 1;
  } finally {
    await redis.stop();
  }
  process.exit(status);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
