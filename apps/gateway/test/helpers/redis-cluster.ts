/**
 * Test helper: a private Redis Cluster on free loopback ports (`redis-server --cluster-enabled
 * yes` per node, then `redis-cli --cluster create … --cluster-replicas R`), with helpers to kill
 * a master (its replica is promoted), add a master (slots rebalanced onto it) and read per-node
 * pub/sub statistics. Needs Redis ≥ 7 (`redis-server`, `redis-cli` on PATH). Used by the Redis
 * Cluster tests and `npm run test:redis-cluster` (docs/redis.md).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, sleep, waitUntil } from './cluster';
import { redisAnswers } from './redis-ping';

const run = promisify(execFile);

/** One redis-server process of the cluster. */
export interface RedisClusterNode {
  port: number;
  process: ChildProcess;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  masters?: number;
  /** Replicas per master (default 1). */
  replicas?: number;
  /** `cluster-node-timeout` (default 1000 ms): how fast a dead master is failed over. */
  nodeTimeoutMs?: number;
}

/** One `CLUSTER SHARDS`-like row: a master and the slot ranges it serves. */
export interface SlotOwner {
  port: number;
  ranges: [number, number][];
}

/** A running private Redis Cluster. */
export class LocalRedisCluster {
  constructor(
    readonly nodes: RedisClusterNode[],
    private readonly dir: string,
    private readonly nodeTimeoutMs: number,
  ) {}

  /** `127.0.0.1:port,…` of the live nodes (REDIS_CLUSTER_NODES). */
  get seedList(): string {
    return this.liveNodes()
      .map((n) => `127.0.0.1:${n.port}`)
      .join(',');
  }

  /** Nodes whose process still runs. */
  liveNodes(): RedisClusterNode[] {
    return this.nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);
  }

  /** A plain connection to one node (no cluster redirections). */
  connect(port: number): Redis {
    const r = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, commandTimeout: 3000 });
    r.on('error', () => undefined);
    return r;
  }

  /** Runs one command on one node. */
  async on<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
    const r = this.connect(port);
    try {
      return await fn(r);
    } finally {
      r.disconnect();
    }
  }

  /** The masters and their slot ranges, as a live node sees them. */
  async slotOwners(): Promise<SlotOwner[]> {
    const seed = this.liveNodes()[0]!;
    const slots = (await this.on(seed.port, (r) => r.cluster('SLOTS'))) as [
      number,
      number,
      [string, number],
    ][];
    const byPort = new Map<number, SlotOwner>();
    for (const [from, to, master] of slots) {
      const port = Number(master[1]);
      let o = byPort.get(port);
      if (!o) byPort.set(port, (o = { port, ranges: [] }));
      o.ranges.push([from, to]);
    }
    return [...byPort.values()].sort((a, b) => a.port - b.port);
  }

  /** Port of the master serving `slot`. */
  async masterOfSlot(slot: number): Promise<number> {
    for (const o of await this.slotOwners())
      if (o.ranges.some(([a, b]) => slot >= a && slot <= b)) return o.port;
    throw new Error(`no master serves slot ${slot}`);
  }

  /** Ports of the current masters. */
  async masterPorts(): Promise<number[]> {
    return (await this.slotOwners()).map((o) => o.port);
  }

  /** Port of a replica of the master on `masterPort`. */
  async replicaOf(masterPort: number): Promise<number> {
    const text = String(await this.on(masterPort, (r) => r.cluster('NODES')));
    const lines = text.trim().split('\n');
    const master = lines.find((l) => l.includes(`:${masterPort}@`));
    const masterId = master?.split(' ')[0];
    const replica = lines.find((l) => masterId && l.includes(` slave ${masterId} `) && !l.includes('fail'));
    if (!replica) throw new Error(`no replica of ${masterPort}`);
    return Number(/:(\d+)@/.exec(replica)![1]);
  }

  /** SIGSTOP (`paused`) or SIGCONT a node: a stopped replica stops replicating. */
  signal(port: number, signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): void {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node on ${port}`);
    node.process.kill(signal);
  }

  /** SIGKILLs the master on `port` and waits until its slots are served by a promoted replica. */
  async killMaster(port: number, timeoutMs = 30_000): Promise<number> {
    const node = this.nodes.find((n) => n.port === port);
    if (!node) throw new Error(`no node on ${port}`);
    const owned = (await this.slotOwners()).find((o) => o.port === port);
    if (!owned) throw new Error(`${port} is not a master`);
    node.process.kill('SIGKILL');
    const slot = owned.ranges[0]![0];
    return waitUntil(
      async () => {
        const p = await this.masterOfSlot(slot);
        if (p === port) return 0;
        const ok = await this.on(p, (r) => r.cluster('INFO'));
        return String(ok).includes('cluster_state:ok') ? p : 0;
      },
      timeoutMs + this.nodeTimeoutMs,
      `failover of master ${port}`,
    );
  }

  /**
   * Starts one more empty master, joins it to the cluster and moves an even share of the slots
   * onto it (`redis-cli --cluster add-node` + `rebalance --cluster-use-empty-masters`).
   */
  async addMaster(): Promise<number> {
    const node = await startNode(this.dir, this.nodeTimeoutMs);
    this.nodes.push(node);
    const seed = this.liveNodes()[0]!;
    await run('redis-cli', ['--cluster', 'add-node', `127.0.0.1:${node.port}`, `127.0.0.1:${seed.port}`]);
    await waitUntil(
      async () => String(await this.on(node.port, (r) => r.cluster('INFO'))).includes('cluster_state:ok'),
      20_000,
      'new node joined',
    );
    await sleep(this.nodeTimeoutMs);
    await run(
      'redis-cli',
      ['--cluster', 'rebalance', `127.0.0.1:${seed.port}`, '--cluster-use-empty-masters', '--cluster-yes'],
      { maxBuffer: 16 * 1024 * 1024 },
    );
    return node.port;
  }

  /** `INFO commandstats` call counts of one node (command name → calls). */
  async commandCalls(port: number): Promise<Record<string, number>> {
    const text = await this.on(port, (r) => r.info('commandstats'));
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out[m[1]!] = Number(m[2]);
    return out;
  }

  /** `CLUSTER INFO` counters of one node. */
  async clusterInfo(port: number): Promise<Record<string, number>> {
    const text = String(await this.on(port, (r) => r.cluster('INFO')));
    const out: Record<string, number> = {};
    for (const m of text.matchAll(/^(\w+):(\d+)\r?$/gm)) out[m[1]!] = Number(m[2]);
    return out;
  }

  /** Kills every node and removes the data directory. */
  async stop(): Promise<void> {
    for (const n of this.nodes) {
      if (n.process.exitCode !== null || n.process.signalCode !== null) continue;
      n.process.kill('SIGKILL');
      await new Promise((r) => n.process.once('exit', r));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function startNode(dir: string, nodeTimeoutMs: number): Promise<RedisClusterNode> {
  const port = await freePort();
  const nodeDir = mkdtempSync(join(dir, `n${port}-`));
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(nodeDir, 'nodes.conf'),
      '--cluster-node-timeout',
      String(nodeTimeoutMs),
      // a replica that was cut off (paused) may still be promoted: tests force stale failovers
      '--cluster-replica-validity-factor',
      '0',
      '--dir',
      nodeDir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore' },
  );
  const node = { port, process: child };
  await waitUntil(
    async () => {
      if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${child.exitCode}`);
      return redisAnswers(port);
    },
    10_000,
    `redis-server on ${port}`,
  );
  return node;
}

/** Starts `masters × (1 + replicas)` nodes and creates the cluster; waits until it is `ok` everywhere. */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<LocalRedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  const dir = mkdtempSync(join(tmpdir(), 'redis-cluster-'));
  const nodes: RedisClusterNode[] = [];
  const cluster = new LocalRedisCluster(nodes, dir, nodeTimeoutMs);
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) nodes.push(await startNode(dir, nodeTimeoutMs));
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    for (const n of nodes) {
      await waitUntil(
        async () => String(await cluster.on(n.port, (r) => r.cluster('INFO'))).includes('cluster_state:ok'),
        30_000,
        `cluster_state:ok on ${n.port}`,
      );
    }
    // every replica attached (so a master kill is failed over)
    await waitUntil(
      async () => {
        const text = String(await cluster.on(nodes[0]!.port, (r) => r.cluster('NODES')));
        const lines = text.trim().split('\n');
        return lines.filter((l) => / slave [0-9a-f]{40} /.test(l)).length === masters * replicas;
      },
      30_000,
      'replicas attached',
    );
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
