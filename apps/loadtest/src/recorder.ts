/**
 * Collects the measurements of one run — per-second ticks of the load workers, the generator's
 * event-loop delay, machine and server samples — and turns them into a {@link RunResult}.
 */
import os from 'node:os';
import { EventLoopProbe } from './load/event-loop';
import { nowMs } from './load/clock';
import type { ShardTick } from './load/fanout-shard';
import { readAllMetrics, type MetricsReading } from './sampling/metrics';
import { describeMachine } from './sampling/proc';
import { Sampler } from './sampling/sampler';
import { emptyLossTotals, type LossTotals } from './stats/loss';
import { latencyHistogram, percentile, sortedSamples, summarizeLatencies } from './stats/percentiles';
import { saturationVerdict } from './stats/saturation';
import type { Figure, RunResult, ScenarioName, TimelinePoint } from './result';
import type { Target } from './target/target';

interface SecondBucket {
  sent: number;
  delivered: number;
  latencies: number[];
  errors: number;
  drops: number;
  eldP99: number;
}

export interface RecorderOptions {
  /** Print one progress line per second (on a TTY). */
  progress?: (line: string) => void;
  workers: number;
}

export class Recorder {
  private readonly seconds = new Map<number, SecondBucket>();
  private readonly mainProbe = new EventLoopProbe();
  private readonly mainTimer: NodeJS.Timeout;
  private readonly sampler: Sampler;
  private windowStart = nowMs();
  private readonly startedAt = new Date();
  private readonly loadStart = os.loadavg();
  private metricsBefore: MetricsReading[] = [];
  private readonly latencies: number[] = [];
  private eldMax = 0;
  private measured = false;

  constructor(
    readonly scenario: ScenarioName,
    readonly target: Target,
    readonly params: Record<string, number | string>,
    private readonly options: RecorderOptions,
  ) {
    this.sampler = new Sampler(target.processes);
    this.mainTimer = setInterval(() => {
      const { p99, max } = this.mainProbe.take();
      this.eventLoopDelay(p99, max);
      this.printProgress();
    }, 1000).unref(); // never keeps a failed run's process alive
  }

  /**
   * Reads remote /metrics and starts the per-second samplers; the measured window starts at
   * `windowStart` (epoch ms, default now; seconds before it are the warm-up, t < 0).
   */
  async begin(windowStart?: number): Promise<void> {
    if (this.target.metricsUrls.length > 0)
      this.metricsBefore = await readAllMetrics(this.target.metricsUrls);
    this.windowStart = windowStart ?? nowMs();
    this.sampler.start(this.windowStart);
  }

  /** Current RSS of the local server processes (bytes; 0 for a remote target). */
  serverRss(): number {
    return this.sampler.currentRss();
  }

  /** Edit → last receiver latencies (ms) of the measured window. */
  readonly allArrived: number[] = [];

  /** The second (relative to the window start) that `at` (epoch ms) falls in. */
  secondOf(at: number): number {
    return Math.floor((at - this.windowStart) / 1000);
  }

  private bucket(second: number): SecondBucket {
    let b = this.seconds.get(second);
    if (!b) {
      b = { sent: 0, delivered: 0, latencies: [], errors: 0, drops: 0, eldP99: 0 };
      this.seconds.set(second, b);
    }
    return b;
  }

  /** A worker tick; `offsetSeconds` maps the worker's seconds onto the window's. */
  tick(tick: ShardTick, offsetSeconds: number): void {
    const b = this.bucket(tick.second + offsetSeconds);
    b.sent += tick.sent;
    b.delivered += tick.delivered;
    b.errors += tick.errors;
    b.drops += tick.drops;
    for (const l of tick.latencies) b.latencies.push(l);
    for (const l of tick.latencies) this.latencies.push(l);
    for (const l of tick.allArrived) this.allArrived.push(l);
  }

  /** Connection drops reported by the workers so far. */
  totalDrops(): number {
    let n = 0;
    for (const b of this.seconds.values()) n += b.drops;
    return n;
  }

  /** Latency samples of a scenario without workers (ingest, coldload, joinstorm, connections). */
  addLatencies(samples: number[], at = nowMs()): void {
    const b = this.bucket(this.secondOf(at));
    for (const l of samples) {
      if (!Number.isFinite(l)) continue;
      b.latencies.push(l);
      this.latencies.push(l);
    }
  }

  /** An event-loop delay reading (ms) of one generator thread for the current second. */
  eventLoopDelay(p99: number, max: number): void {
    if (!this.measured) return;
    const b = this.bucket(this.secondOf(nowMs()));
    b.eldP99 = Math.max(b.eldP99, p99);
    this.eldMax = Math.max(this.eldMax, max);
  }

  /** Starts counting event-loop delay (call when the load starts; set-up is not measured). */
  measureFromNow(): void {
    this.measured = true;
    this.mainProbe.take();
  }

  private lastPrinted = -1;

  private printProgress(): void {
    if (!this.options.progress) return;
    const s = this.secondOf(nowMs()) - 1;
    if (s <= this.lastPrinted) return;
    const b = this.seconds.get(s);
    if (!b) return;
    this.lastPrinted = s;
    const sorted = sortedSamples(b.latencies);
    const fmt = (v: number) => (Number.isNaN(v) ? '   -' : v.toFixed(1).padStart(5));
    this.options.progress(
      `[${this.scenario} ${String(s).padStart(3)}s] sent ${String(b.sent).padStart(6)}  received ${String(b.delivered).padStart(7)}  ` +
        `p50 ${fmt(percentile(sorted, 50))} ms  p99 ${fmt(percentile(sorted, 99))} ms  errors ${b.errors + b.drops}  ` +
        `client loop p99 ${b.eldP99.toFixed(1)} ms`,
    );
  }

  /** Builds the result. `generatorEventLoopDelayP99Ms` is computed over the measured seconds. */
  async finish(parts: {
    figures: Figure[];
    latencyMeaning: string;
    loss?: LossTotals;
    lostEdits?: number;
    convergence?: RunResult['convergence'];
    failures: string[];
    notes?: string[];
    editsScheduled?: number;
    /** Seconds [from, to) of the timeline the saturation verdict looks at (default: all). */
    measuredSeconds?: [number, number];
  }): Promise<RunResult> {
    clearInterval(this.mainTimer);
    this.mainProbe.stop();
    const samples = this.sampler.stop();
    const metricsAfter =
      this.target.metricsUrls.length > 0 ? await readAllMetrics(this.target.metricsUrls) : [];
    const machineBySecond = new Map(samples.machine.map((m) => [Math.floor(m.t) - 1, m]));
    const keys = [...this.seconds.keys(), ...machineBySecond.keys()];
    const first = Math.min(0, ...keys);
    const last = Math.max(0, ...keys);
    const timeline: TimelinePoint[] = [];
    for (let s = first; s <= last; s++) {
      const b = this.seconds.get(s);
      const m = machineBySecond.get(s);
      const sorted = sortedSamples(b?.latencies ?? []);
      timeline.push({
        t: s,
        sent: b?.sent ?? 0,
        delivered: b?.delivered ?? 0,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        errors: b?.errors ?? 0,
        drops: b?.drops ?? 0,
        generatorEventLoopDelayP99: b?.eldP99 ?? 0,
        machineCpuBusy: m?.cpuBusy ?? NaN,
        load1: m?.load1 ?? NaN,
      });
    }
    const [from, to] = parts.measuredSeconds ?? [-Infinity, Infinity];
    const measured = timeline.filter((p) => p.t >= from && p.t < to);
    const busy = measured.map((p) => p.machineCpuBusy).filter(Number.isFinite);
    const cpuBusyMean = busy.length ? busy.reduce((a, b) => a + b, 0) / busy.length : NaN;
    // The generator's delay over the measured seconds: the median second's p99 hides a bad
    // second and the worst second punishes one GC pause; take the p90 of the per-second p99s.
    const eldP99 = percentile(sortedSamples(measured.map((p) => p.generatorEventLoopDelayP99)), 90) || 0;
    const loss = parts.loss ?? emptyLossTotals();
    const saturation = saturationVerdict({
      generatorEventLoopDelayP99Ms: eldP99,
      machineCpuBusy: Number.isFinite(cpuBusyMean) ? cpuBusyMean : 0,
      editsScheduled: parts.editsScheduled,
      editsSent: parts.editsScheduled === undefined ? undefined : loss.editsSent,
    });
    return {
      tool: 'diaryx-sync loadtest',
      scenario: this.scenario,
      target: {
        label: this.target.label,
        protocol: this.target.endpoints[0].protocol,
        local: this.target.local,
        endpoints: this.target.endpoints.map((e) => e.base),
      },
      params: this.params,
      startedAt: this.startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: {
        ...describeMachine(),
        loadavgStart: this.loadStart,
        loadavgEnd: os.loadavg(),
        cpuBusyMean,
        backing: samples.backing,
      },
      generator: {
        workers: this.options.workers,
        eventLoopDelayP99Ms: eldP99,
        eventLoopDelayMaxMs: this.eldMax,
        cpuSeconds: samples.generatorCpuSeconds,
      },
      latency: this.latencies.length ? summarizeLatencies(this.latencies) : null,
      latencyMeaning: parts.latencyMeaning,
      histogram: latencyHistogram(this.latencies),
      timeline,
      server: {
        source: this.target.processes.length > 0 ? 'proc' : 'metrics',
        services: samples.services,
        metrics:
          this.target.metricsUrls.length > 0 ? { before: this.metricsBefore, after: metricsAfter } : null,
      },
      loss: { ...loss, lostEdits: parts.lostEdits ?? 0 },
      convergence: parts.convergence ?? null,
      figures: parts.figures,
      saturation,
      failures: parts.failures,
      ok: parts.failures.length === 0,
      notes: parts.notes ?? [],
    };
  }
}
