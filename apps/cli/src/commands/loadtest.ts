/**
 * `diaryx-sync loadtest <scenario>`: the command-line face of @diaryx-sync/loadtest (see
 * apps/loadtest/README.md). Parses and validates the options, runs the scenario, prints the
 * summary and where the JSON and HTML went.
 */
import { Option, type Command } from 'commander';
import {
  defaultWorkers,
  runLoadtest,
  SCENARIO_NAMES,
  type ScenarioKnobs,
  type ScenarioName,
} from '@diaryx-sync/loadtest';
import { CliError } from '../cli-error';
import { ExitCode, type ExitCodeValue } from '../exit-codes';
import type { CliIo } from '../io';

/** Numeric options: option flag → knob name. */
const KNOB_OPTIONS: Array<[flag: string, knob: keyof ScenarioKnobs, help: string]> = [
  ['--docs <n>', 'docs', 'fanout/failover: docs (50); connections: docs (200)'],
  ['--clients <n>', 'clients', 'fanout/failover: clients per doc (4); joinstorm: joining clients (150)'],
  ['--rate <n>', 'rate', 'fanout/failover: edits per second per client (2)'],
  ['--duration <s>', 'duration', 'fanout/failover: measured seconds (20)'],
  ['--warmup <s>', 'warmup', 'fanout/failover: warm-up seconds (5)'],
  ['--drain <s>', 'drain', 'fanout/failover: wait for late deliveries (15 / 40)'],
  ['--connections <n>', 'connections', 'connections: idle connections (2000)'],
  ['--hold <s>', 'hold', 'connections: seconds to hold them (5)'],
  ['--updates <n>', 'updates', 'ingest/coldload: updates (10000)'],
  ['--repetitions <n>', 'repetitions', 'coldload: cold loads, one doc each (5)'],
  ['--size-mb <n>', 'sizeMb', 'joinstorm: doc size in MB (4)'],
  ['--kill-after <s>', 'killAfter', 'failover: seconds into the run before the SIGKILL (5)'],
  ['--down <s>', 'down', 'failover: seconds before the killed doc service restarts (5)'],
];

function camel(flag: string): string {
  return flag
    .replace(/^--/, '')
    .replace(/ <.*$/, '')
    .replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Adds the `loadtest` subcommand; the exit code goes to `result`. */
export function addLoadtestCommand(program: Command, io: CliIo, result: { code: ExitCodeValue }): void {
  const cmd = program
    .command('loadtest')
    .description(
      'Load-test a Diaryx Sync deployment (or, with --local, a stack started on free ports) and write a JSON result and an HTML report.',
    )
    .addArgument(program.createArgument('<scenario>', 'what to run').choices(SCENARIO_NAMES as string[]))
    .option('--local', 'start the npm start topology on free ports and sample its processes from /proc')
    .option('-s, --server <url>', 'deployment to test, e.g. wss://sync.example.com (env DIARYX_SYNC_SERVER)')
    .option('-t, --token <jwt>', 'editor token for --workspace (env DIARYX_SYNC_TOKEN)')
    .option('-w, --workspace <id>', 'workspace the --token covers (env DIARYX_SYNC_WORKSPACE)')
    .option(
      '--admin-token <token>',
      "the cluster's ADMIN_TOKEN: create a tenant, workspace and token for the run",
    )
    .addOption(new Option('--protocol <name>', 'endpoint to load').choices(['sync2', 'yjs']).default('sync2'))
    .option('--metrics <urls...>', 'extra /metrics URLs of a remote deployment (doc services)')
    .option('--unload-wait <s>', 'coldload against --server: wait for the idle unload (130)')
    .option('--workers <n>', `load worker threads (${defaultWorkers()})`)
    .option('--out <dir>', 'directory for the JSON and HTML files', 'loadtest-results')
    .option('--no-progress', 'no per-second progress lines');
  for (const [flag, , help] of KNOB_OPTIONS) cmd.option(flag, help);
  cmd.addHelpText(
    'after',
    `
Exit codes: 0 passed · 9 the run lost an update, replicas diverged or a check failed ·
2 bad command line · 1 could not run (target unreachable, stack did not start).`,
  );
  cmd.action(async (scenario: string, raw: Record<string, unknown>) => {
    result.code = await loadtestCommand(scenario as ScenarioName, raw, io);
  });
}

function positive(name: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    throw new CliError(ExitCode.Usage, `--${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  }
  return n;
}

async function loadtestCommand(
  scenario: ScenarioName,
  raw: Record<string, unknown>,
  io: CliIo,
): Promise<ExitCodeValue> {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const local = raw.local === true;
  const server = str(raw.server) ?? (local ? undefined : str(io.env.DIARYX_SYNC_SERVER));
  const token = str(raw.token) ?? (local ? undefined : str(io.env.DIARYX_SYNC_TOKEN));
  const workspace = str(raw.workspace) ?? (local ? undefined : str(io.env.DIARYX_SYNC_WORKSPACE));
  const adminToken = str(raw.adminToken);
  if (local && server) throw new CliError(ExitCode.Usage, '--local and --server exclude each other');
  if (!local && !server)
    throw new CliError(
      ExitCode.Usage,
      'give --server (with --token and --workspace, or --admin-token), or --local',
    );
  if (!local && !adminToken && !(token && workspace)) {
    throw new CliError(ExitCode.Usage, 'against --server, give --admin-token, or --token with --workspace');
  }
  if (scenario === 'failover' && !local)
    throw new CliError(ExitCode.Usage, 'failover runs only with --local');
  const knobs: ScenarioKnobs = {};
  for (const [flag, knob] of KNOB_OPTIONS) {
    const name = flag.replace(/^--/, '').replace(/ <.*$/, '');
    const v = positive(name, raw[camel(flag)]);
    if (v !== undefined) knobs[knob] = v;
  }
  const workers = positive('workers', raw.workers);
  const showProgress = raw.progress !== false && io.progressStream?.isTTY === true;
  const outcome = await runLoadtest({
    scenario,
    local,
    server,
    token,
    workspace,
    adminToken,
    metricsUrls: Array.isArray(raw.metrics) ? raw.metrics.map(String) : undefined,
    protocol: raw.protocol === 'yjs' ? 'yjs' : 'sync2',
    workers: workers === undefined ? undefined : Math.max(1, Math.round(workers)),
    outDir: str(raw.out) ?? 'loadtest-results',
    unloadWaitSeconds: positive('unload-wait', raw.unloadWait),
    knobs,
    log: (line) => io.err(`[loadtest] ${line}\n`),
    progress: showProgress ? (line) => io.err(`${line}\n`) : undefined,
  });
  io.out(`${outcome.summary}\n\nJSON  ${outcome.jsonPath}\nHTML  ${outcome.htmlPath}\n`);
  return outcome.result.ok ? ExitCode.Ok : ExitCode.LoadtestFailed;
}
