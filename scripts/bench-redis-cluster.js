#!/usr/bin/env node
/**
 * `npm run bench:redis-cluster` (docs/benchmarks.md "Redis Cluster fan-out"): the same
 * `diaryx-sync loadtest fanout --local` run on three private Redis set-ups started on free
 * loopback ports, measuring what each Redis node carries:
 *
 *   1. one Redis node (classic pub/sub);
 *   2. Redis Cluster, 3 masters (sharded pub/sub);
 *   3. the same cluster after one more master joined (`--cluster add-node` + rebalance).
 *
 * Per node it reads `INFO` before and after the run: CPU seconds (used_cpu_sys + user) and
 * pub/sub publishes (PUBLISH + SPUBLISH calls, each one message handed to its subscribers). A
 * Redis node saturates at some publish rate X (one core); a set-up saturates when its busiest
 * node does, so its ceiling is X ÷ (busiest node's share of all publishes): the "ceiling vs one
 * node" column. Prints a Markdown table.
 *
 * Options (env): BENCH_DOCS (20), BENCH_CLIENTS (3), BENCH_RATE (3), BENCH_DURATION (10).
 * Needs `npm run build`, PostgreSQL, redis-server/redis-cli ≥ 7.
 */
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');
const os = require('node:os');

const root = path.resolve(__dirname, '..');
require('@swc-node/register');
const { startRedisCluster } = require(path.join(root, 'apps/gateway/test/helpers/redis-cluster.ts'));
const { freePort, waitUntil } = require(path.join(root, 'apps/gateway/test/helpers/cluster.ts'));
const { Redis } = require('ioredis');

const DOCS = Number(process.env.BENCH_DOCS ?? 20);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 3);
const RATE = Number(process.env.BENCH_RATE ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);

async function info(port) {
  const r = new Redis({ host: '127.0.0.1', port, commandTimeout: 5000, maxRetriesPerRequest: 1 });
  r.on('error', () => undefined);
  try {
    const text = await r.info('all');
    const num = (re) => Number(re.exec(text)?.[1] ?? 0);
    return {
      cpu: num(/^used_cpu_sys:([\d.]+)/m) + num(/^used_cpu_user:([\d.]+)/m),
      commands: num(/^total_commands_processed:(\d+)/m),
      publishes: num(/^cmdstat_publish:calls=(\d+)/m) + num(/^cmdstat_spublish:calls=(\d+)/m),
    };
  } finally {
    r.disconnect();
  }
}

async function startSingle() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  await waitUntil(async () => (await info(port).catch(() => null)) !== null, 10_000, 'redis-server');
  return {
    ports: [port],
    env: { REDIS_URL: `redis://127.0.0.1:${port}` },
    stop: async () => {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function runFanout(env, label) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-rc-out-'));
  const started = Date.now();
  const res = spawnSync(
    process.execPath,
    [
      path.join(root, 'apps/cli/dist/main.js'),
      'loadtest',
      'fanout',
      '--local',
      '--no-progress',
      '--docs',
      String(DOCS),
      '--clients',
      String(CLIENTS),
      '--rate',
      String(RATE),
      '--duration',
      String(DURATION),
      '--warmup',
      '3',
      '--drain',
      '30',
      '--out',
      out,
    ],
    { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const seconds = (Date.now() - started) / 1000;
  const file = fs.readdirSync(out).find((f) => f.endsWith('.json'));
  if (!file)
    throw new Error(`${label}: loadtest wrote no result (exit ${res.status}):\n${res.stdout}\n${res.stderr}`);
  const result = JSON.parse(fs.readFileSync(path.join(out, file), 'utf8'));
  fs.rmSync(out, { recursive: true, force: true });
  const fig = (k) => result.figures.find((f) => f.key === k)?.value ?? NaN;
  return {
    seconds,
    ok: result.ok,
    deliveriesPerSecond: fig('deliveries_per_second'),
    p99: fig('all_arrived_p99_ms'),
    p50: result.latency?.p50 ?? NaN,
    missing: result.loss?.missingDeliveries ?? NaN,
  };
}

async function measure(label, setup) {
  const before = await Promise.all(setup.ports.map(info));
  const run = runFanout(setup.env, label);
  const after = await Promise.all(setup.ports.map(info));
  const nodes = setup.ports.map((port, i) => ({
    port,
    cpuShare: (after[i].cpu - before[i].cpu) / run.seconds,
    commandsPerSecond: (after[i].commands - before[i].commands) / run.seconds,
    publishesPerSecond: (after[i].publishes - before[i].publishes) / run.seconds,
  }));
  const busRate = nodes.reduce((a, n) => a + n.publishesPerSecond, 0);
  const busiestShare = Math.max(...nodes.map((n) => n.publishesPerSecond)) / busRate;
  return { label, run, nodes, busRate, busiestShare };
}

const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');

async function main() {
  const rows = [];
  const single = await startSingle();
  try {
    rows.push(await measure('1 Redis node', single));
  } finally {
    await single.stop();
  }
  const cluster = await startRedisCluster({ masters: 3, replicas: 0 });
  try {
    const env = () => ({ REDIS_CLUSTER_NODES: cluster.seedList });
    rows.push(await measure('Redis Cluster, 3 masters', { ports: await cluster.masterPorts(), env: env() }));
    await cluster.addMaster();
    rows.push(await measure('Redis Cluster, 4 masters', { ports: await cluster.masterPorts(), env: env() }));
  } finally {
    await cluster.stop();
  }
  console.log(
    `\nfanout --local: ${DOCS} docs × ${CLIENTS} clients × ${RATE} edits/s, ${DURATION} s (+3 s warm-up); ${os.cpus().length} CPUs\n`,
  );
  console.log(
    '| set-up | deliveries/s | p50 / p99 ms | missing | bus publishes/s | per node: publishes/s (CPU %) | busiest node share | ceiling vs one node |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const per = r.nodes.map((n) => `${f(n.publishesPerSecond)} (${f(n.cpuShare * 100, 1)} %)`).join(', ');
    console.log(
      `| ${r.label} | ${f(r.run.deliveriesPerSecond)} | ${f(r.run.p50)} / ${f(r.run.p99)} | ${r.run.missing} | ${f(r.busRate)} | ${per} | ${f(r.busiestShare * 100)} % | ${f(1 / r.busiestShare, 2)}× |`,
    );
  }
  process.exit(rows.every((r) => r.run.ok) ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
