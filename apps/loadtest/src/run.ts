/**
 * `diaryx-sync loadtest <scenario>`: picks the target (local stack, or a deployment by URL),
 * runs one scenario, prints the summary and writes the JSON result and the HTML report.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult, ScenarioName } from './result';
import { renderHtmlReport } from './report/html';
import { renderSummary } from './report/summary';
import type { ScenarioContext } from './scenarios/context';
import { COLDLOAD_DEFAULTS, runColdload } from './scenarios/coldload';
import { CONNECTIONS_DEFAULTS, runConnections } from './scenarios/connections';
import { FAILOVER_DEFAULTS, FANOUT_DEFAULTS, runFailover, runFanout } from './scenarios/fanout';
import { INGEST_DEFAULTS, runIngest } from './scenarios/ingest';
import { JOINSTORM_DEFAULTS, runJoinstorm } from './scenarios/joinstorm';
import { startLocalCluster } from './target/local-cluster';
import { connectRemote } from './target/remote';
import type { Target } from './target/target';

/** Size knobs of the scenarios (command-line options); each scenario reads the ones it has. */
export interface ScenarioKnobs {
  docs?: number;
  clients?: number;
  rate?: number;
  duration?: number;
  warmup?: number;
  drain?: number;
  connections?: number;
  hold?: number;
  updates?: number;
  repetitions?: number;
  sizeMb?: number;
  killAfter?: number;
  down?: number;
}

/** Runs `scenario` against `ctx.target` with the defaults of the issue, overridden by `knobs`. */
export function runScenario(
  ctx: ScenarioContext,
  scenario: ScenarioName,
  knobs: ScenarioKnobs = {},
): Promise<RunResult> {
  const pick = <T>(v: T | undefined, d: T) => (v === undefined ? d : v);
  switch (scenario) {
    case 'fanout':
    case 'failover': {
      const d = scenario === 'fanout' ? FANOUT_DEFAULTS : FAILOVER_DEFAULTS;
      const fanout = {
        docs: pick(knobs.docs, d.docs),
        clientsPerDoc: pick(knobs.clients, d.clientsPerDoc),
        editsPerSecond: pick(knobs.rate, d.editsPerSecond),
        durationSeconds: pick(knobs.duration, d.durationSeconds),
        warmupSeconds: pick(knobs.warmup, d.warmupSeconds),
        drainSeconds: pick(knobs.drain, d.drainSeconds),
      };
      if (scenario === 'fanout') return runFanout(ctx, fanout);
      return runFailover(ctx, {
        ...fanout,
        killAfterSeconds: pick(knobs.killAfter, FAILOVER_DEFAULTS.killAfterSeconds),
        downSeconds: pick(knobs.down, FAILOVER_DEFAULTS.downSeconds),
      });
    }
    case 'connections':
      return runConnections(ctx, {
        connections: pick(knobs.connections, CONNECTIONS_DEFAULTS.connections),
        docs: pick(knobs.docs, CONNECTIONS_DEFAULTS.docs),
        holdSeconds: pick(knobs.hold, CONNECTIONS_DEFAULTS.holdSeconds),
        concurrency: CONNECTIONS_DEFAULTS.concurrency,
      });
    case 'ingest':
      return runIngest(ctx, { ...INGEST_DEFAULTS, updates: pick(knobs.updates, INGEST_DEFAULTS.updates) });
    case 'coldload':
      return runColdload(ctx, {
        ...COLDLOAD_DEFAULTS,
        updates: pick(knobs.updates, COLDLOAD_DEFAULTS.updates),
        repetitions: pick(knobs.repetitions, COLDLOAD_DEFAULTS.repetitions),
      });
    case 'joinstorm':
      return runJoinstorm(ctx, {
        ...JOINSTORM_DEFAULTS,
        clients: pick(knobs.clients, JOINSTORM_DEFAULTS.clients),
        sizeMegabytes: pick(knobs.sizeMb, JOINSTORM_DEFAULTS.sizeMegabytes),
      });
  }
}

export interface LoadtestOptions {
  scenario: ScenarioName;
  /** Start the local stack on free ports (and sample its processes from /proc). */
  local: boolean;
  server?: string;
  token?: string;
  workspace?: string;
  adminToken?: string;
  /** Extra `/metrics` URLs of a remote deployment (doc services). */
  metricsUrls?: string[];
  protocol: 'sync2' | 'yjs';
  /** Load worker threads (default: the number of CPUs, at most 4). */
  workers?: number;
  /** Directory for `<scenario>-<time>.json` and `.html`. */
  outDir: string;
  /** Remote coldload: seconds to wait for the server's idle unload. */
  unloadWaitSeconds?: number;
  knobs: ScenarioKnobs;
  log(line: string): void;
  progress?: (line: string) => void;
}

export interface LoadtestOutcome {
  result: RunResult;
  summary: string;
  jsonPath: string;
  htmlPath: string;
}

export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, os.cpus().length));
}

/** Opens the target of `options` (starting the local stack when asked). */
export async function openTarget(options: LoadtestOptions): Promise<Target> {
  if (options.local) return startLocalCluster({ protocol: options.protocol, log: options.log });
  if (!options.server)
    throw new Error('give --server ws(s)://… (with --token/--workspace or --admin-token), or --local');
  return connectRemote({
    server: options.server,
    protocol: options.protocol,
    token: options.token,
    workspace: options.workspace,
    adminToken: options.adminToken,
    metricsUrls: options.metricsUrls,
    unloadWaitMs: (options.unloadWaitSeconds ?? 130) * 1000,
    log: options.log,
  });
}

/** Writes `<outDir>/<name>.json` and `.html`; returns both paths. */
export function writeReports(
  result: RunResult,
  outDir: string,
  name: string,
): { jsonPath: string; htmlPath: string } {
  fs.mkdirSync(outDir, { recursive: true });
  const jsonPath = path.join(outDir, `${name}.json`);
  const htmlPath = path.join(outDir, `${name}.html`);
  fs.writeFileSync(
    jsonPath,
    `${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`,
  );
  fs.writeFileSync(htmlPath, renderHtmlReport(result));
  return { jsonPath, htmlPath };
}

/** The whole command: target, scenario, summary, files. */
export async function runLoadtest(options: LoadtestOptions): Promise<LoadtestOutcome> {
  if (options.scenario === 'failover' && !options.local)
    throw new Error('failover runs only against --local');
  const target = await openTarget(options);
  let result: RunResult;
  try {
    result = await runScenario(
      { target, workers: options.workers ?? defaultWorkers(), log: options.log, progress: options.progress },
      options.scenario,
      options.knobs,
    );
  } finally {
    await target.close();
  }
  const stamp = result.startedAt.replace(/[:.]/g, '-');
  const { jsonPath, htmlPath } = writeReports(result, options.outDir, `${options.scenario}-${stamp}`);
  return { result, summary: renderSummary(result), jsonPath, htmlPath };
}
