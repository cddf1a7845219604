/**
 * Test helper: a private Sentinel-managed Redis on free loopback ports: one primary, one replica
 * and one sentinel (`redis-server --sentinel`, quorum 1, 1 s down-after). Used by the Sentinel
 * smoke test (docs/redis.md).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, waitUntil } from './cluster';
import { redisAnswers } from './redis-ping';

/** The master name the sentinel monitors. */
export const SENTINEL_MASTER_NAME = 'diaryx';

/** A running Sentinel set. */
export class LocalRedisSentinel {
  constructor(
    readonly dataPorts: number[],
    readonly sentinelPort: number,
    private readonly processes: ChildProcess[],
    private readonly dir: string,
  ) {}

  /** Runs one command on the sentinel. */
  async sentinel<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    const r = new Redis({ host: '127.0.0.1', port: this.sentinelPort, commandTimeout: 3000 });
    r.on('error', () => undefined);
    try {
      return await fn(r);
    } finally {
      r.disconnect();
    }
  }

  /** Port of the current primary, as the sentinel sees it. */
  async primaryPort(): Promise<number> {
    const addr = (await this.sentinel((r) =>
      r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER_NAME),
    )) as [string, string];
    return Number(addr[1]);
  }

  /** Forces a failover to the replica and waits until the sentinel reports the new primary. */
  async failover(timeoutMs = 30_000): Promise<number> {
    const before = await this.primaryPort();
    await this.sentinel((r) => r.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME));
    return waitUntil(
      async () => {
        const p = await this.primaryPort();
        return p !== before ? p : 0;
      },
      timeoutMs,
      'sentinel failover',
    );
  }

  /** Kills every process and removes the data directory. */
  async stop(): Promise<void> {
    for (const p of this.processes) {
      if (p.exitCode !== null || p.signalCode !== null) continue;
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Starts primary, replica and sentinel; waits until the sentinel knows the replica. */
export async function startRedisSentinel(): Promise<LocalRedisSentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-sentinel-'));
  const processes: ChildProcess[] = [];
  const primary = await freePort();
  const replica = await freePort();
  const sentinelPort = await freePort();
  const set = new LocalRedisSentinel([primary, replica], sentinelPort, processes, dir);
  const common = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  try {
    processes.push(
      spawn('redis-server', ['--port', String(primary), '--dir', dir, ...common], { stdio: 'ignore' }),
    );
    processes.push(
      spawn(
        'redis-server',
        ['--port', String(replica), '--dir', dir, '--replicaof', '127.0.0.1', String(primary), ...common],
        { stdio: 'ignore' },
      ),
    );
    for (const p of [primary, replica])
      await waitUntil(() => redisAnswers(p), 10_000, `redis-server on ${p}`);
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${sentinelPort}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${primary} 1`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_MASTER_NAME} 5000`,
        '',
      ].join('\n'),
    );
    processes.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
    await waitUntil(() => redisAnswers(sentinelPort), 10_000, 'sentinel');
    await waitUntil(
      async () => {
        const replicas = (await set.sentinel((r) =>
          r.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER_NAME),
        )) as unknown[];
        return replicas.length === 1;
      },
      20_000,
      'the sentinel to discover the replica',
    );
  } catch (err) {
    await set.stop();
    throw err;
  }
  return set;
}
