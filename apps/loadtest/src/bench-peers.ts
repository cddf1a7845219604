/**
 * `npm run bench:peers`: the same fanout (two loads), connections, ingest and coldload runs
 * against this cluster (/sync2 and /yjs, local stack) and its peers (y-websocket server,
 * Hocuspocus, Hocuspocus + Redis on 2 processes), each run on a freshly started server. Writes
 * the comparison table into docs/benchmarks.md (between the bench:peers markers) and every
 * run's HTML report into docs/bench/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startPeer, type PeerKind } from './peers/peer-target';
import { figure, type RunResult, type ScenarioName } from './result';
import { fmtBytes, fmtMs, fmtNumber } from './report/format';
import { defaultWorkers, runScenario, writeReports, type ScenarioKnobs } from './run';
import { REPO_ROOT, startLocalCluster } from './target/local-cluster';
import type { Target } from './target/target';

export interface PeerTargetSpec {
  key: string;
  label: string;
  open(): Promise<Target>;
}

export const PEER_TARGETS: PeerTargetSpec[] = [
  { key: 'diaryx-sync2', label: 'this cluster /sync2', open: () => startLocalCluster({ protocol: 'sync2' }) },
  { key: 'diaryx-yjs', label: 'this cluster /yjs', open: () => startLocalCluster({ protocol: 'yjs' }) },
  ...(['y-websocket', 'hocuspocus', 'hocuspocus-redis'] as PeerKind[]).map((kind) => ({
    key: kind,
    label:
      kind === 'y-websocket' ? 'y-websocket' : kind === 'hocuspocus' ? 'Hocuspocus' : 'Hocuspocus + Redis ×2',
    open: () => startPeer(kind),
  })),
];

export interface PeerRunSpec {
  key: string;
  scenario: ScenarioName;
  knobs: ScenarioKnobs;
}

export const PEER_RUNS: PeerRunSpec[] = [
  { key: 'fanout-50x4x2', scenario: 'fanout', knobs: { docs: 50, clients: 4, rate: 2, drain: 30 } },
  { key: 'fanout-100x10x2', scenario: 'fanout', knobs: { docs: 100, clients: 10, rate: 2, drain: 30 } },
  { key: 'connections', scenario: 'connections', knobs: {} },
  { key: 'ingest', scenario: 'ingest', knobs: {} },
  { key: 'coldload', scenario: 'coldload', knobs: {} },
  { key: 'joinstorm', scenario: 'joinstorm', knobs: {} },
];

/** A row of the comparison: how to read the figure from a run, and which way is better. */
interface Metric {
  run: string;
  label: string;
  better: 'lower' | 'higher';
  value(r: RunResult): number;
  format(v: number): string;
}

const serverCores = (r: RunResult) => r.server.services.reduce((a, s) => a + s.cpuCores, 0);
/** Redis + PostgreSQL CPU on the machine (results written before they were sampled have none). */
const backingCores = (r: RunResult) =>
  Array.isArray(r.machine.backing) ? r.machine.backing.reduce((a, b) => a + b.cpuCores, 0) : NaN;
const lossOf = (r: RunResult) => r.loss.missingDeliveries + r.loss.lostEdits;

const METRICS: Metric[] = [
  ...['fanout-50x4x2', 'fanout-100x10x2'].flatMap((run): Metric[] => [
    {
      run,
      label: `${run}: latency p50`,
      better: 'lower',
      value: (r) => r.latency?.p50 ?? NaN,
      format: (v) => `${fmtMs(v)} ms`,
    },
    {
      run,
      label: `${run}: latency p99`,
      better: 'lower',
      value: (r) => r.latency?.p99 ?? NaN,
      format: (v) => `${fmtMs(v)} ms`,
    },
    {
      run,
      label: `${run}: server CPU`,
      better: 'lower',
      value: serverCores,
      format: (v) => `${(v * 100).toFixed(0)} % core`,
    },
    {
      run,
      label: `${run}: server CPU per delivery`,
      better: 'lower',
      value: (r) => (serverCores(r) / (figure(r, 'deliveries_per_second') ?? NaN)) * 1e6,
      format: (v) => `${fmtNumber(v)} µs`,
    },
    {
      run,
      label: `${run}: Redis + PostgreSQL CPU (machine)`,
      better: 'lower',
      value: backingCores,
      format: (v) => `${(v * 100).toFixed(0)} % core`,
    },
    {
      run,
      label: `${run}: lost deliveries/updates`,
      better: 'lower',
      value: lossOf,
      format: (v) => fmtNumber(v),
    },
  ]),
  {
    run: 'connections',
    label: 'connections: connect p50',
    better: 'lower',
    value: (r) => figure(r, 'connect_p50_ms') ?? NaN,
    format: (v) => `${fmtMs(v)} ms`,
  },
  {
    run: 'connections',
    label: 'connections: connect p99',
    better: 'lower',
    value: (r) => figure(r, 'connect_p99_ms') ?? NaN,
    format: (v) => `${fmtMs(v)} ms`,
  },
  {
    run: 'connections',
    label: 'connections: server memory per idle connection',
    better: 'lower',
    value: (r) => figure(r, 'server_bytes_per_connection') ?? NaN,
    format: fmtBytes,
  },
  {
    run: 'connections',
    label: 'connections: dropped',
    better: 'lower',
    value: (r) => figure(r, 'connections_dropped') ?? NaN,
    format: fmtNumber,
  },
  {
    run: 'ingest',
    label: 'ingest 10k: second client has all',
    better: 'lower',
    value: (r) => figure(r, 'all_seen_ms') ?? NaN,
    format: (v) => `${fmtMs(v)} ms`,
  },
  {
    run: 'ingest',
    label: 'ingest 10k: updates per second',
    better: 'higher',
    value: (r) => figure(r, 'updates_per_second') ?? NaN,
    format: (v) => `${fmtNumber(v)}/s`,
  },
  {
    run: 'coldload',
    label: 'coldload 10k updates: median',
    better: 'lower',
    value: (r) => figure(r, 'coldload_p50_ms') ?? NaN,
    format: (v) => `${fmtMs(v)} ms`,
  },
  {
    run: 'joinstorm',
    label: 'joinstorm 150 × 4 MB: connect → full content p99',
    better: 'lower',
    value: (r) => r.latency?.p99 ?? NaN,
    format: (v) => `${fmtMs(v)} ms`,
  },
];

const OURS = ['diaryx-sync2', 'diaryx-yjs'];

/** Markdown comparison table; a value from a saturated run carries a †, a failed run a ✗. */
export function comparisonTable(results: Map<string, RunResult>, targets = PEER_TARGETS): string {
  const peers = targets.filter((t) => !OURS.includes(t.key));
  const head = `| figure | ${targets.map((t) => t.label).join(' | ')} | /sync2 ÷ best peer | /yjs ÷ best peer |`;
  const sep = `| --- | ${targets.map(() => '---:').join(' | ')} | ---: | ---: |`;
  const rows = METRICS.map((m) => {
    const cell = (t: PeerTargetSpec) => {
      const r = results.get(`${t.key}/${m.run}`);
      if (!r) return 'n/a';
      const v = m.value(r);
      return `${Number.isFinite(v) ? m.format(v) : '-'}${r.saturation.saturated ? ' †' : ''}${r.ok ? '' : ' ✗'}`;
    };
    const peerValues = peers
      .map((t) => results.get(`${t.key}/${m.run}`))
      .filter((r): r is RunResult => !!r)
      .map(m.value)
      .filter(Number.isFinite);
    const best = peerValues.length
      ? m.better === 'lower'
        ? Math.min(...peerValues)
        : Math.max(...peerValues)
      : NaN;
    const ratio = (key: string) => {
      const r = results.get(`${key}/${m.run}`);
      const v = r ? m.value(r) : NaN;
      if (!Number.isFinite(v) || !Number.isFinite(best)) return '-';
      if (best === 0) return v === 0 ? '=' : '-';
      return `${(v / best).toFixed(2)}×`;
    };
    return `| ${m.label} | ${targets.map(cell).join(' | ')} | ${ratio('diaryx-sync2')} | ${ratio('diaryx-yjs')} |`;
  });
  return [head, sep, ...rows].join('\n');
}

const BEGIN = '<!-- bench:peers:begin -->';
const END = '<!-- bench:peers:end -->';

/** Replaces (or appends) the marked section of docs/benchmarks.md. */
export function writeBenchmarksSection(file: string, body: string): void {
  const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n';
  const section = `${BEGIN}\n${body.trim()}\n${END}`;
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + section + current.slice(end + END.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  fs.writeFileSync(file, next);
}

/** Results in `dir` named `<target>-<run>.json`, keyed `<target>/<run>`. */
export function readResults(dir: string): Map<string, RunResult> {
  const results = new Map<string, RunResult>();
  for (const t of PEER_TARGETS) {
    for (const run of PEER_RUNS) {
      const file = path.join(dir, `${t.key}-${run.key}.json`);
      if (fs.existsSync(file))
        results.set(`${t.key}/${run.key}`, JSON.parse(fs.readFileSync(file, 'utf8')) as RunResult);
    }
  }
  return results;
}

async function main(): Promise<void> {
  const only = (name: string) => (process.env[name] ?? '').split(',').filter(Boolean);
  const targetFilter = only('BENCH_PEERS_TARGETS');
  const runFilter = only('BENCH_PEERS_RUNS');
  const duration = process.env.BENCH_PEERS_DURATION ? Number(process.env.BENCH_PEERS_DURATION) : undefined;
  const targets = PEER_TARGETS.filter((t) => targetFilter.length === 0 || targetFilter.includes(t.key));
  const runs = PEER_RUNS.filter((r) => runFilter.length === 0 || runFilter.includes(r.key));
  const outDir = path.join(REPO_ROOT, 'docs/bench');
  const log = (line: string) => process.stderr.write(`[bench:peers] ${line}\n`);
  const loadStart = os.loadavg();
  const started = new Date();
  let current: Target | null = null;
  // Ctrl-C: stop the server of the current run (the local stack drops its schema) before exiting.
  const interrupt = () => {
    log('interrupted: stopping the current server ...');
    void (current?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  for (const run of runs) {
    for (const t of targets) {
      log(`${run.key} on ${t.label}: starting a fresh server ...`);
      let target: Target | null = null;
      try {
        target = await t.open();
        current = target;
        const knobs = {
          ...run.knobs,
          ...(duration !== undefined && run.scenario === 'fanout' ? { duration } : {}),
        };
        const result = await runScenario({ target, workers: defaultWorkers(), log }, run.scenario, knobs);
        writeReports(result, outDir, `${t.key}-${run.key}`);
        log(
          `${run.key} on ${t.label}: ${result.ok ? 'PASS' : `FAIL (${result.failures.join('; ')})`}${result.saturation.saturated ? ', saturated' : ''}`,
        );
      } catch (err) {
        log(`${run.key} on ${t.label}: could not run: ${(err as Error).message}`);
      } finally {
        await target?.close().catch(() => undefined);
      }
    }
  }
  const loadEnd = os.loadavg();
  const cpus = os.cpus();
  // The table covers every result in docs/bench, so a narrowed re-run (BENCH_PEERS_RUNS=…)
  // replaces its own cells and keeps the others.
  const table = comparisonTable(readResults(outDir));
  const body = [
    '### Peer comparison (`npm run bench:peers`)',
    '',
    `Run: ${started.toISOString().slice(0, 10)}, ${started.toISOString().slice(11, 16)}-${new Date().toISOString().slice(11, 16)} UTC. ` +
      `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'CPU'} (shared), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ` +
      `load average ${loadStart[0].toFixed(1)} at the start, ${loadEnd[0].toFixed(1)} at the end (other engineers' builds and tests were running).`,
    '',
    `Command: \`npm run bench:peers\`${duration !== undefined ? ` (BENCH_PEERS_DURATION=${duration})` : ''}. Reports: [docs/bench/](bench/) (HTML report and JSON result per target and run).`,
    '',
    table,
    '',
    '† the run was saturated (load generator event-loop delay p99 > 10 ms or machine CPU > 90 % busy): the figure is an upper bound set by the machine, not the server. ✗ the run failed a check (see its report).',
    'Ratios divide this cluster by the best peer: below 1× is better for time, CPU and memory, above 1× is better for updates per second.',
  ].join('\n');
  writeBenchmarksSection(path.join(REPO_ROOT, 'docs/benchmarks.md'), body);
  process.stdout.write(`${table}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`bench:peers failed: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
