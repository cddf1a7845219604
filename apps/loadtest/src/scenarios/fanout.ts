/**
 * `fanout` (and `failover`): R docs × C clients, every client edits at E edits/s for D seconds
 * after a warm-up. Latency = edit sent → its arrival at each other client of the doc (one
 * process, one clock). Then every client saves, and convergence is checked: every client holds
 * exactly the doc's edits, and so does a fresh client's load. `failover` also SIGKILLs one doc
 * service during the run and restarts it after K seconds.
 */
import { nowMs, sleep } from '../load/clock';
import { splitEvenly, WorkerPool } from '../load/worker-pool';
import type { FanoutFinish } from '../load/worker-protocol';
import { Recorder } from '../recorder';
import type { Figure, RunResult } from '../result';
import { addLossTotals, emptyLossTotals } from '../stats/loss';
import { percentile, sortedSamples } from '../stats/percentiles';
import type { ScenarioContext } from './context';

export interface FanoutOptions {
  docs: number;
  clientsPerDoc: number;
  editsPerSecond: number;
  durationSeconds: number;
  warmupSeconds: number;
  /** How long to wait for the last deliveries after the edits stop. */
  drainSeconds: number;
}

export const FANOUT_DEFAULTS: FanoutOptions = {
  docs: 50,
  clientsPerDoc: 4,
  editsPerSecond: 2,
  durationSeconds: 20,
  warmupSeconds: 5,
  drainSeconds: 15,
};

export interface FailoverOptions extends FanoutOptions {
  /** Seconds into the measured window when one doc service is SIGKILLed. */
  killAfterSeconds: number;
  /** K: seconds the killed service stays down before it is restarted. */
  downSeconds: number;
}

export const FAILOVER_DEFAULTS: FailoverOptions = {
  ...FANOUT_DEFAULTS,
  durationSeconds: 20,
  drainSeconds: 40,
  killAfterSeconds: 5,
  downSeconds: 5,
};

export async function runFanout(ctx: ScenarioContext, options: FanoutOptions): Promise<RunResult> {
  return runFanoutLike(ctx, options, null);
}

export async function runFailover(ctx: ScenarioContext, options: FailoverOptions): Promise<RunResult> {
  if (!ctx.target.failover) throw new Error('failover needs a stack this tool started (--local)');
  return runFanoutLike(ctx, options, options);
}

async function runFanoutLike(
  ctx: ScenarioContext,
  o: FanoutOptions,
  failover: FailoverOptions | null,
): Promise<RunResult> {
  const { target } = ctx;
  if (o.clientsPerDoc < 2) throw new Error('fanout needs at least 2 clients per doc');
  const workers = Math.max(1, Math.min(ctx.workers, o.docs));
  const params: Record<string, number | string> = {
    docs: o.docs,
    clients_per_doc: o.clientsPerDoc,
    edits_per_second_per_client: o.editsPerSecond,
    duration_s: o.durationSeconds,
    warmup_s: o.warmupSeconds,
  };
  if (failover)
    Object.assign(params, { kill_after_s: failover.killAfterSeconds, down_s: failover.downSeconds });
  const recorder = new Recorder(failover ? 'failover' : 'fanout', target, params, {
    workers,
    progress: ctx.progress,
  });
  let offset = 0;
  const pool = new WorkerPool(workers, {
    onTick: (_w, tick) => recorder.tick(tick, offset),
    onEventLoopDelay: (_w, p99, max) => recorder.eventLoopDelay(p99, max),
  });
  try {
    const docIds = Array.from({ length: o.docs }, (_, i) =>
      target.docId(`${failover ? 'failover' : 'fanout'}-${i}`),
    );
    const groups = splitEvenly(docIds, workers);
    ctx.log(`connecting ${o.docs} docs × ${o.clientsPerDoc} clients on ${workers} worker thread(s) ...`);
    await pool.all((i) => ({
      cmd: 'fanout-connect',
      config: {
        endpoints: target.endpoints,
        docIds: groups[i],
        clientsPerDoc: o.clientsPerDoc,
        editsPerSecond: o.editsPerSecond,
        firstEditId: i * 100_000_000 + 1,
        connectConcurrency: 25,
      },
    }));
    const startAt = nowMs() + 300;
    const measureFrom = startAt + o.warmupSeconds * 1000;
    const endAt = measureFrom + o.durationSeconds * 1000;
    offset = -o.warmupSeconds;
    await recorder.begin(measureFrom);
    recorder.measureFromNow();
    ctx.log(
      `editing: ${o.editsPerSecond}/s per client, ${o.warmupSeconds} s warm-up + ${o.durationSeconds} s measured (${o.docs * o.clientsPerDoc * o.editsPerSecond * (o.clientsPerDoc - 1)} deliveries/s) ...`,
    );
    let killedAt = NaN;
    let killed = '';
    const failoverDone = failover
      ? sleep(Math.max(0, measureFrom + failover.killAfterSeconds * 1000 - nowMs())).then(() =>
          target.failover!(failover.downSeconds * 1000, (at, name) => {
            killedAt = at;
            killed = name;
            ctx.log(`SIGKILL ${name}; restarting it in ${failover.downSeconds} s`);
            void pool.all(() => ({ cmd: 'fanout-mark', at }));
          }),
        )
      : Promise.resolve();
    await pool.all(() => ({
      cmd: 'fanout-run',
      times: { startAt, measureFrom, endAt },
      drainTimeoutMs: o.drainSeconds * 1000,
    }));
    await failoverDone;
    ctx.log('checking convergence (save, then a fresh load of every doc) ...');
    const finished = await pool.all<FanoutFinish>(() => ({
      cmd: 'fanout-finish',
      save: target.endpoints[0].protocol === 'sync2',
      convergeTimeoutMs: 60000,
    }));
    const totals = finished.reduce((acc, f) => addLossTotals(acc, f.totals), emptyLossTotals());
    const lostEdits = finished.reduce((a, f) => a + f.convergence.lostEdits, 0);
    const convergence = {
      docs: finished.reduce((a, f) => a + f.convergence.docs, 0),
      convergedDocs: finished.reduce((a, f) => a + f.convergence.convergedDocs, 0),
      freshMatchingDocs: finished.reduce((a, f) => a + f.convergence.freshMatchingDocs, 0),
      examples: finished.flatMap((f) => f.convergence.examples).slice(0, 10),
    };
    const saveFailures = finished.reduce((a, f) => a + f.saveFailures, 0);
    const editsScheduled = finished.reduce((a, f) => a + f.editsScheduled, 0);
    const all = sortedSamples(recorder.allArrived);
    const figures: Figure[] = [
      {
        key: 'edits_per_second',
        label: 'edits sent per second',
        value: totals.editsSent / (o.warmupSeconds + o.durationSeconds),
        unit: '/s',
      },
      {
        key: 'deliveries_per_second',
        label: 'deliveries per second',
        value: totals.deliveriesReceived / (o.warmupSeconds + o.durationSeconds),
        unit: '/s',
      },
      {
        key: 'all_arrived_p50_ms',
        label: 'edit → every other client, p50',
        value: percentile(all, 50),
        unit: 'ms',
      },
      {
        key: 'all_arrived_p99_ms',
        label: 'edit → every other client, p99',
        value: percentile(all, 99),
        unit: 'ms',
      },
    ];
    const failures: string[] = [];
    const notes: string[] = [];
    if (failover) {
      const recovered = finished.flatMap((f) => f.recoveredAt);
      const worst = Math.max(...recovered.map((r) => (Number.isNaN(r) ? Infinity : r)));
      const recoveryMs = worst - killedAt;
      figures.push(
        { key: 'acknowledged_lost', label: 'acknowledged updates lost', value: lostEdits, unit: '' },
        { key: 'recovery_ms', label: 'kill → every doc writable again', value: recoveryMs, unit: 'ms' },
      );
      notes.push(
        `${killed} was SIGKILLed ${failover.killAfterSeconds} s into the measured window and restarted after ${failover.downSeconds} s.`,
      );
      if (!Number.isFinite(recoveryMs)) failures.push('some doc never accepted an edit again after the kill');
    }
    if (totals.missingDeliveries > 0)
      failures.push(
        `${totals.missingDeliveries} deliveries missing (${totals.incompleteEdits} edits did not reach every client)`,
      );
    if (lostEdits > 0) failures.push(`${lostEdits} edits lost: absent from a fresh load`);
    if (convergence.convergedDocs < convergence.docs)
      failures.push(`replicas diverged in ${convergence.docs - convergence.convergedDocs} docs`);
    if (convergence.freshMatchingDocs < convergence.docs)
      failures.push(
        `a fresh load differs from the clients in ${convergence.docs - convergence.freshMatchingDocs} docs`,
      );
    if (saveFailures > 0) failures.push(`${saveFailures} saves not answered`);
    // A dropped client reconnects and resyncs like a real one: drops are reported, and only what
    // they cost (missing deliveries, lost edits) fails the run.
    const drops = recorder.totalDrops();
    figures.push({
      key: 'connections_dropped',
      label: 'connections dropped (and reconnected)',
      value: drops,
      unit: '',
    });
    const messages = [...new Set(finished.flatMap((f) => f.messages))].slice(0, 10);
    if (messages.length) notes.push(`server/client messages: ${messages.join('; ')}`);
    if (target.endpoints[0].protocol !== 'sync2')
      notes.push('no save barrier on this protocol: convergence was checked after the deliveries completed');
    return await recorder.finish({
      figures,
      latencyMeaning: 'edit sent → arrival at each other client of the doc (ms), measured window only',
      loss: totals,
      lostEdits,
      convergence,
      failures,
      notes,
      editsScheduled,
      measuredSeconds: [0, o.durationSeconds],
    });
  } finally {
    await pool.close();
  }
}
