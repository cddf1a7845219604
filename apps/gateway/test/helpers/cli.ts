/**
 * Test helper: runs the built `diaryx-sync` CLI (`apps/cli/dist/main.js`) as a REAL child
 * process, for end-to-end tests against a spawned cluster (see `./cluster`). Requires a build
 * of `apps/cli` (`npx tsc -b apps/cli`, or `npm run build`). Every process and temp folder it
 * creates is tracked so {@link cleanupCli} can end and remove them even after a failure.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
/** The built CLI entry point. */
export const CLI_MAIN = join(ROOT, 'apps/cli/dist/main.js');

/** Outcome of one finished CLI process. */
export interface CliResult {
  /** Exit code (null when killed by a signal). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time of the run in ms. */
  ms: number;
}

const running = new Set<CliProcess>();
const tempDirs: string[] = [];

/** A running `diaryx-sync` process with its captured output. */
export class CliProcess {
  stdout = '';
  stderr = '';
  readonly done: Promise<CliResult>;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly args: readonly string[],
    private readonly child: ChildProcess,
  ) {
    const started = Date.now();
    child.stdout!.setEncoding('utf8').on('data', (t: string) => {
      this.stdout += t;
      for (const l of this.listeners) l();
    });
    child.stderr!.setEncoding('utf8').on('data', (t: string) => {
      this.stderr += t;
      for (const l of this.listeners) l();
    });
    this.done = new Promise((resolveDone) => {
      child.once('close', (code, signal) => {
        running.delete(this);
        for (const l of this.listeners) l();
        resolveDone({ code, signal, stdout: this.stdout, stderr: this.stderr, ms: Date.now() - started });
      });
    });
    running.add(this);
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Waits until stdout matches `pattern`; throws (with the output) on timeout or early exit. */
  async waitForStdout(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolveWait, reject) => {
      const check = (): void => {
        const m = this.stdout.match(pattern);
        if (m) {
          finish();
          resolveWait(m);
        } else if (!this.running) {
          finish();
          reject(new Error(`diaryx-sync exited before printing ${pattern}\n${this.describe()}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}\n${this.describe()}`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Sends `signal` (default SIGINT, like Ctrl-C) and waits for the exit; SIGKILL after `graceMs`. */
  async stop(signal: NodeJS.Signals = 'SIGINT', graceMs = 5_000): Promise<CliResult> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const result = await this.done;
    clearTimeout(timer);
    return result;
  }

  /** Command line and output so far (for failure messages). */
  describe(): string {
    return `$ diaryx-sync ${this.args.join(' ')}\n--- stdout ---\n${this.stdout}--- stderr ---\n${this.stderr}`;
  }
}

/**
 * Spawns `node apps/cli/dist/main.js ...args`. The environment is the test's minus any
 * `DIARYX_SYNC_*` variables (plus `env`), so only the given arguments count.
 */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): CliProcess {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`npx tsc -b apps/cli\` first`);
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DIARYX_SYNC_')));
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new CliProcess(args, child);
}

/** Runs the CLI to completion; SIGKILLs it after `timeoutMs` (the result then has `signal`). */
export async function runCli(
  args: readonly string[],
  timeoutMs = 30_000,
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  const p = spawnCli(args, env);
  const timer = setTimeout(() => void p.stop('SIGKILL'), timeoutMs);
  try {
    return await p.done;
  } finally {
    clearTimeout(timer);
  }
}

/** A fresh temp folder, removed by {@link cleanupCli}. */
export function tempDir(label = 'cli'): string {
  const dir = mkdtempSync(join(tmpdir(), `diaryx-e2e-${label}-`));
  tempDirs.push(dir);
  return dir;
}

/** Kills every CLI process still running and removes every temp folder. */
export async function cleanupCli(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop('SIGKILL', 2_000)));
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Every regular file under `root` as `relative/path` (always `/`) → content, skipping nothing. */
export function readTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const abs = join(dir, name);
      if (statSync(abs).isDirectory()) walk(abs);
      else out.set(relative(root, abs).split(sep).join('/'), readFileSync(abs, 'utf8'));
    }
  };
  walk(root);
  return out;
}
