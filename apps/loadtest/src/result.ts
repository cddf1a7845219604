/** The result of one scenario run: what the JSON file holds and the reports render. */
import type { HistogramBucket, LatencySummary } from './stats/percentiles';
import type { LossTotals } from './stats/loss';
import type { SaturationVerdict } from './stats/saturation';
import type { BackingUsage, ServiceUsage } from './sampling/sampler';
import type { MetricsReading } from './sampling/metrics';
import type { WireProtocol } from './wire/wire';

export type ScenarioName = 'fanout' | 'connections' | 'ingest' | 'coldload' | 'joinstorm' | 'failover';

export const SCENARIO_NAMES: readonly ScenarioName[] = [
  'fanout',
  'connections',
  'ingest',
  'coldload',
  'joinstorm',
  'failover',
];

/** One named figure of a scenario (e.g. `connect_p99_ms`). */
export interface Figure {
  key: string;
  label: string;
  value: number;
  unit: string;
}

/** One second of the run. */
export interface TimelinePoint {
  /** Seconds since the measured window started (negative: warm-up). */
  t: number;
  sent: number;
  delivered: number;
  p50: number;
  p99: number;
  errors: number;
  drops: number;
  /** Highest event-loop delay p99 of the load generator's threads in that second (ms). */
  generatorEventLoopDelayP99: number;
  /** Busy share of the machine's CPU (0-1). */
  machineCpuBusy: number;
  load1: number;
}

export interface RunResult {
  tool: 'diaryx-sync loadtest';
  scenario: ScenarioName;
  target: { label: string; protocol: WireProtocol; local: boolean; endpoints: string[] };
  params: Record<string, number | string>;
  startedAt: string;
  finishedAt: string;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryBytes: number;
    node: string;
    platform: string;
    loadavgStart: number[];
    loadavgEnd: number[];
    /** Mean busy share of the machine's CPU over the measured window (0-1). */
    cpuBusyMean: number;
    /** Redis and PostgreSQL on this machine over the window (not part of the server's CPU). */
    backing: BackingUsage[];
  };
  generator: {
    workers: number;
    eventLoopDelayP99Ms: number;
    eventLoopDelayMaxMs: number;
    cpuSeconds: number;
  };
  /** The scenario's main latency distribution (see `latencyMeaning`). */
  latency: LatencySummary | null;
  latencyMeaning: string;
  histogram: HistogramBucket[];
  timeline: TimelinePoint[];
  server: {
    /** `proc`: local processes sampled every second; `metrics`: remote /metrics before/after. */
    source: 'proc' | 'metrics';
    services: ServiceUsage[];
    metrics: { before: MetricsReading[]; after: MetricsReading[] } | null;
  };
  loss: LossTotals & {
    /** Edits (updates) absent from a fresh client's load at the end: acknowledged data lost. */
    lostEdits: number;
  };
  convergence: {
    docs: number;
    convergedDocs: number;
    freshMatchingDocs: number;
    examples: string[];
  } | null;
  figures: Figure[];
  saturation: SaturationVerdict;
  /** Why the run failed (loss, divergence, errors); empty when it passed. */
  failures: string[];
  ok: boolean;
  notes: string[];
}

/** The figure with `key`, or undefined. */
export function figure(result: RunResult, key: string): number | undefined {
  return result.figures.find((f) => f.key === key)?.value;
}
