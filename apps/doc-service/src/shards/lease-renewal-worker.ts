/**
 * Worker-thread entry of {@link ThreadLeaseRenewal}: renews the leases it is told about every
 * `renewMs` on its own Redis connection, so renewal keeps going while the main thread is busy
 * with document work (docs/fencing.md "Renewal and overload"). Writes each lease's validity
 * bound to shared memory and reports lost leases. Stops renewing when the main thread has not
 * beaten for `maxStallMs`: a hung instance then gives its shards up through expiry.
 */
import { parentPort, workerData } from 'node:worker_threads';
// Sub-path imports: this thread is a second V8 heap in every doc service, and the package
// indexes would load BullMQ, pino, pg and prom-client into it (about 10 MB of heap it never uses).
import { docServiceMembersKey } from '@diaryx-sync/bus/names';
import { createRedis, type RedisTopology } from '@diaryx-sync/runtime/redis-topology';
import { leaseScripts } from './lease-scripts';

/** What the worker is started with. */
export interface RenewalWorkerData {
  topology: RedisTopology;
  prefix: string;
  instanceId: string;
  ttlMs: number;
  renewMs: number;
  maxStallMs: number;
  /** Float64Array(shardCount): validity bound (ms epoch) of each shard's lease, 0 = not valid. */
  validUntil: SharedArrayBuffer;
  /** Float64Array(1): the main thread's last beat (ms epoch). */
  mainBeat: SharedArrayBuffer;
}

/** Main → worker. */
export type RenewalCommand =
  | { type: 'leases'; leases: { shard: number; key: string; value: string }[] }
  | { type: 'leave' }
  | { type: 'stop' };

/** Worker → main. */
export type RenewalReport =
  | { type: 'lost'; shard: number; value: string; sinceRenewMs: number }
  | { type: 'stalled'; stallMs: number }
  | { type: 'error'; message: string }
  | { type: 'renewed' }
  | { type: 'stopped' };

function run(data: RenewalWorkerData): void {
  const port = parentPort!;
  const redis = createRedis(data.topology);
  redis.on('error', () => undefined);
  const scripts = leaseScripts(redis);
  const validUntil = new Float64Array(data.validUntil);
  const mainBeat = new Float64Array(data.mainBeat);
  let leases: { shard: number; key: string; value: string }[] = [];
  /** Time the previous round was sent; 0 before the first (reported as `renewed`). */
  let lastSentAt = 0;
  let stopped = false;
  let member = true;
  let stallReported = false;
  let timer: NodeJS.Timeout | undefined;

  const round = async () => {
    const sentAt = Date.now();
    const stall = sentAt - mainBeat[0]!;
    if (stall > data.maxStallMs) {
      if (!stallReported) port.postMessage({ type: 'stalled', stallMs: stall } satisfies RenewalReport);
      stallReported = true;
      return;
    }
    stallReported = false;
    const current = leases;
    if (current.length > 0) {
      const res = await scripts.renew(
        current.map((l) => l.key),
        current.map((l) => l.value),
        data.ttlMs,
      );
      current.forEach((l, i) => {
        if (Number(res[i]) === 1) validUntil[l.shard] = sentAt + data.ttlMs;
        else {
          validUntil[l.shard] = 0;
          port.postMessage({
            type: 'lost',
            shard: l.shard,
            value: l.value,
            sinceRenewMs: lastSentAt ? sentAt - lastSentAt : 0,
          } satisfies RenewalReport);
        }
      });
    }
    if (member) await redis.zadd(docServiceMembersKey(data.prefix), sentAt + data.ttlMs, data.instanceId);
    if (lastSentAt === 0) port.postMessage({ type: 'renewed' } satisfies RenewalReport);
    lastSentAt = sentAt;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      round()
        .catch((err: Error) =>
          port.postMessage({ type: 'error', message: err.message } satisfies RenewalReport),
        )
        .finally(schedule);
    }, data.renewMs);
  };
  port.on('message', (cmd: RenewalCommand) => {
    if (cmd.type === 'leases') leases = cmd.leases;
    else if (cmd.type === 'leave') member = false;
    else {
      stopped = true;
      clearTimeout(timer);
      redis.disconnect();
      port.postMessage({ type: 'stopped' } satisfies RenewalReport);
      port.close();
    }
  });
  schedule();
}

if (parentPort && workerData) run(workerData as RenewalWorkerData);
