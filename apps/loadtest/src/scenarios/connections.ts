/**
 * `connections`: N idle connections over R docs, held for H seconds: connect time (connect →
 * initial sync) p50/p99, connections dropped while held, server memory per connection.
 *
 * Memory per connection is the marginal cost: the connections open in two halves, each covering
 * every doc, and the figure is (RSS after the second half − RSS after the first) / second half.
 * Measured from before the first connection instead, it would also charge the connections with
 * what the first use costs once: loading the docs and the heap growth of a process that was idle
 * (tens of MB per process, a large share of 2,000 connections).
 */
import { sleep } from '../load/clock';
import { splitEvenly, WorkerPool } from '../load/worker-pool';
import type { IdleConnectResult, IdleStatus } from '../load/worker-protocol';
import { Recorder } from '../recorder';
import type { RunResult } from '../result';
import { readAllMetrics } from '../sampling/metrics';
import { percentile, sortedSamples } from '../stats/percentiles';
import type { ScenarioContext } from './context';

export interface ConnectionsOptions {
  connections: number;
  docs: number;
  holdSeconds: number;
  /** Connection attempts in flight per worker. */
  concurrency: number;
}

export const CONNECTIONS_DEFAULTS: ConnectionsOptions = {
  connections: 2000,
  docs: 200,
  holdSeconds: 5,
  concurrency: 50,
};

export async function runConnections(ctx: ScenarioContext, o: ConnectionsOptions): Promise<RunResult> {
  const { target } = ctx;
  const workers = Math.max(1, Math.min(ctx.workers, o.connections));
  const recorder = new Recorder(
    'connections',
    target,
    { connections: o.connections, docs: o.docs, hold_s: o.holdSeconds },
    { workers, progress: ctx.progress },
  );
  const pool = new WorkerPool(workers, {
    onEventLoopDelay: (_w, p99, max) => recorder.eventLoopDelay(p99, max),
  });
  try {
    await sleep(1500); // let the workers and the server settle before the memory baseline
    await recorder.begin();
    recorder.measureFromNow();
    const docIds = Array.from({ length: o.connections }, (_, i) => target.docId(`conn-${i % o.docs}`));
    const half = Math.max(1, Math.floor(o.connections / 2));
    const open = async (ids: string[]): Promise<IdleConnectResult[]> => {
      const groups = splitEvenly(ids, workers);
      return pool.all<IdleConnectResult>((i) => ({
        cmd: 'idle-connect',
        endpoints: target.endpoints,
        docIds: groups[i],
        concurrency: Math.max(1, Math.round(o.concurrency / workers)),
      }));
    };
    ctx.log(`opening ${o.connections} connections over ${o.docs} docs, in two halves ...`);
    const first = await open(docIds.slice(0, half));
    await sleep(o.holdSeconds * 1000);
    const rssFirstHalf = await serverRss(ctx, recorder);
    const second = await open(docIds.slice(half));
    const opened = [...first, ...second];
    const connectMs = opened.flatMap((r) => r.connectMs);
    recorder.addLatencies(connectMs);
    const failuresToConnect = opened.reduce((a, r) => a + r.failures, 0);
    ctx.log(`holding ${connectMs.length} connections for ${o.holdSeconds} s ...`);
    await sleep(o.holdSeconds * 1000);
    const rssHeld = await serverRss(ctx, recorder);
    const status = await pool.all<IdleStatus>(() => ({ cmd: 'idle-status' }));
    const dropped = status.reduce((a, s) => a + s.dropped, 0);
    const sorted = sortedSamples(connectMs);
    const secondHalf = second.reduce((a, r) => a + r.connectMs.length, 0);
    const perConnection = secondHalf > 0 && rssFirstHalf > 0 ? (rssHeld - rssFirstHalf) / secondHalf : NaN;
    const failures: string[] = [];
    if (failuresToConnect > 0) failures.push(`${failuresToConnect} connections failed to open`);
    if (dropped > 0) failures.push(`${dropped} connections dropped while idle`);
    const messages = opened.flatMap((r) => r.messages).slice(0, 5);
    return await recorder.finish({
      figures: [
        { key: 'connections_open', label: 'connections open and synced', value: connectMs.length, unit: '' },
        { key: 'connect_p50_ms', label: 'connect → synced, p50', value: percentile(sorted, 50), unit: 'ms' },
        { key: 'connect_p99_ms', label: 'connect → synced, p99', value: percentile(sorted, 99), unit: 'ms' },
        { key: 'connections_dropped', label: 'connections dropped while held', value: dropped, unit: '' },
        {
          key: 'server_bytes_per_connection',
          label: 'server memory per connection',
          value: perConnection,
          unit: 'B',
        },
      ],
      latencyMeaning: 'connect → initial sync of one idle connection (ms)',
      failures,
      notes: [
        `server memory per connection = (server RSS holding all − RSS holding the first half) / connections of the second half, over ${target.processes.length > 0 ? 'every local server process (/proc)' : 'the /metrics of the services given'}`,
        ...(messages.length ? [`first errors: ${messages.join('; ')}`] : []),
      ],
    });
  } finally {
    await pool.close();
  }
}

/** Server RSS: local processes from /proc, remote from /metrics. */
async function serverRss(ctx: ScenarioContext, recorder: Recorder): Promise<number> {
  if (ctx.target.processes.length > 0) return recorder.serverRss();
  const readings = await readAllMetrics(ctx.target.metricsUrls);
  return readings.reduce((a, r) => a + (Number.isFinite(r.rssBytes) ? r.rssBytes : 0), 0);
}
