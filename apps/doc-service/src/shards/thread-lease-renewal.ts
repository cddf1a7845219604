/**
 * Lease renewal on a worker thread (`lease-renewal-worker.ts`): the main thread tells it which
 * leases it holds and beats every 100 ms; the worker renews on its own Redis connection and
 * publishes each lease's validity bound in shared memory. Renewal thereby never waits for the
 * main thread's event loop (long synchronous document work, GC pauses of the main heap).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { RedisTopology } from '@diaryx-sync/runtime';
import type { RenewalCommand, RenewalReport, RenewalWorkerData } from './lease-renewal-worker';

/** Options of {@link ThreadLeaseRenewal}. */
export interface ThreadLeaseRenewalOptions {
  topology: RedisTopology;
  prefix: string;
  instanceId: string;
  shardCount: number;
  ttlMs: number;
  renewMs: number;
  /** The worker stops renewing when the main thread has not beaten for this long (default 10 s). */
  maxStallMs?: number;
  onLost(shard: number, value: string, sinceRenewMs: number): void;
  onReport(level: 'warn' | 'error', message: string): void;
  /** The compiled worker (default: `lease-renewal-worker.js` next to this module). */
  workerFile?: string;
}

const WORKER_FILE = join(__dirname, 'lease-renewal-worker.js');

/** See module doc. */
export class ThreadLeaseRenewal {
  private readonly worker: Worker;
  private readonly validUntil: Float64Array;
  private readonly mainBeat: Float64Array;
  private readonly beat: NodeJS.Timeout;
  private stopped: Promise<void> | undefined;
  /** True once the worker completed its first renewal round. */
  running = false;

  /** False where the compiled worker file is missing (sources run by a test runner). */
  static available(workerFile = WORKER_FILE): boolean {
    return existsSync(workerFile);
  }

  constructor(opts: ThreadLeaseRenewalOptions) {
    const valid = new SharedArrayBuffer(8 * opts.shardCount);
    const beat = new SharedArrayBuffer(8);
    this.validUntil = new Float64Array(valid);
    this.mainBeat = new Float64Array(beat);
    this.mainBeat[0] = Date.now();
    this.beat = setInterval(() => (this.mainBeat[0] = Date.now()), 100);
    this.beat.unref();
    const workerData: RenewalWorkerData = {
      topology: opts.topology,
      prefix: opts.prefix,
      instanceId: opts.instanceId,
      ttlMs: opts.ttlMs,
      renewMs: opts.renewMs,
      maxStallMs: opts.maxStallMs ?? 10_000,
      validUntil: valid,
      mainBeat: beat,
    };
    this.worker = new Worker(opts.workerFile ?? WORKER_FILE, { workerData });
    this.worker.unref();
    this.worker.on('message', (r: RenewalReport) => {
      if (r.type === 'renewed') this.running = true;
      else if (r.type === 'lost') opts.onLost(r.shard, r.value, r.sinceRenewMs);
      else if (r.type === 'stalled')
        opts.onReport(
          'error',
          `main thread stalled ${r.stallMs} ms: lease renewal paused (leases will expire)`,
        );
      else if (r.type === 'error') opts.onReport('warn', `lease renewal failed: ${r.message}`);
    });
    this.worker.on('error', (err) => opts.onReport('error', `lease renewal worker failed: ${err.message}`));
  }

  /** The leases held now (replaces the previous set). */
  setLeases(leases: { shard: number; key: string; value: string }[]): void {
    this.post({ type: 'leases', leases });
  }

  /** Stops registering in the member set (graceful stop: leases are still renewed). */
  leave(): void {
    this.post({ type: 'leave' });
  }

  /** Validity bound the worker last established for `shard` (0: none). */
  validUntilOf(shard: number): number {
    return this.validUntil[shard] ?? 0;
  }

  /** Forgets the worker's bound of `shard` (lost or released). */
  clear(shard: number): void {
    this.validUntil[shard] = 0;
  }

  /** Stops renewing and ends the worker. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      clearInterval(this.beat);
      const done = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.post({ type: 'stop' });
      await Promise.race([done, new Promise((r) => setTimeout(r, 1000).unref())]);
      await this.worker.terminate().catch(() => undefined);
    })();
    return this.stopped;
  }

  private post(cmd: RenewalCommand): void {
    this.worker.postMessage(cmd);
  }
}
