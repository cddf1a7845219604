import { Command, CommanderError } from 'commander';
import { describeError, CliError } from './cli-error';
import { addConnectionOptions, resolveConnectionOptions } from './connection-options';
import { ExitCode, type ExitCodeValue } from './exit-codes';
import type { CliIo } from './io';
import { pullCommand } from './commands/pull';
import { pushCommand } from './commands/push';
import { startCommand, type StartHooks } from './commands/start';
import { addLoadtestCommand } from './commands/loadtest';
import type { ClientTuning } from './sync-runner';

/** Version printed by `--version`. */
export const CLI_VERSION = '0.1.0';

/** Exit codes, as printed by `--help` (apps/cli/README.md has the same table; a test checks). */
export const EXIT_CODE_MEANINGS: readonly (readonly [number, string])[] = [
  [0, 'success'],
  [1, 'unexpected failure'],
  [2, 'bad command line (unknown option, missing --server, --workspace or --token)'],
  [3, 'token rejected, or a read-only token for a push'],
  [4, 'workspace not found or not accessible with this token'],
  [5, 'server unreachable, no sync endpoint at the URL, or a TLS mismatch'],
  [6, 'timed out'],
  [7, 'server rejected the data (protocol error)'],
  [8, 'local file or folder error (folders are checked before syncing)'],
  [9, '`loadtest`: an update was lost, replicas diverged or another check of the run failed'],
  [130, 'interrupted'],
];

const EXIT_CODES_HELP = `\nExit codes:\n${EXIT_CODE_MEANINGS.map(([c, m]) => `  ${String(c).padStart(3)}  ${m}`).join('\n')}`;

/** Builds the `diaryx-sync` program; the chosen command's exit code is stored in `result`. */
export function createProgram(
  io: CliIo,
  result: { code: ExitCodeValue },
  tuning: ClientTuning & StartHooks = {},
): Command {
  const program = new Command()
    .name('diaryx-sync')
    .description('Sync a folder of markdown files with a Diaryx Sync workspace; load-test a deployment.')
    .version(CLI_VERSION, '-V, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .addHelpText('after', EXIT_CODES_HELP);

  addConnectionOptions(
    program
      .command('pull')
      .description('Materialize the workspace into <dir> (markdown with YAML frontmatter).')
      .argument('<dir>', 'target folder (created when missing)')
      .option('--delete', 'delete local markdown files that are not in the workspace')
      .addHelpText('after', EXIT_CODES_HELP),
  ).action(async (dir: string, raw: Record<string, unknown>) => {
    const opts = { ...(await resolveConnectionOptions(raw, io)), delete: raw.delete === true };
    result.code = await pullCommand(dir, opts, io, tuning);
  });

  addConnectionOptions(
    program
      .command('push')
      .description(
        'Read the markdown files of <dir> into the workspace as minimal changes, then wait until they are saved.',
      )
      .argument('<dir>', 'source folder')
      .option('--delete', 'delete workspace files that are not in the folder')
      .option('--doc-ids', 'a workspace with no files yet gets doc-id (UUID) keys instead of path keys')
      .addHelpText('after', EXIT_CODES_HELP),
  ).action(async (dir: string, raw: Record<string, unknown>) => {
    const opts = {
      ...(await resolveConnectionOptions(raw, io)),
      delete: raw.delete === true,
      docIds: raw.docIds === true,
    };
    result.code = await pushCommand(dir, opts, io, tuning);
  });

  addConnectionOptions(
    program
      .command('start')
      .description('Keep <dir> and the workspace in sync both ways until Ctrl-C.')
      .argument('<dir>', 'folder to keep in sync (created when missing)')
      .option('--debounce <ms>', 'quiet time before a changed file is read', '300')
      .option('--doc-ids', 'a workspace with no files yet gets doc-id (UUID) keys instead of path keys')
      .addHelpText('after', EXIT_CODES_HELP),
  ).action(async (dir: string, raw: Record<string, unknown>) => {
    const debounceMs = Number(raw.debounce);
    if (!Number.isInteger(debounceMs) || debounceMs < 0) {
      throw new CliError(
        ExitCode.Usage,
        `--debounce must be a non-negative integer, got ${JSON.stringify(raw.debounce)}`,
      );
    }
    result.code = await startCommand(
      dir,
      { ...(await resolveConnectionOptions(raw, io)), debounceMs, docIds: raw.docIds === true },
      io,
      tuning,
    );
  });

  addLoadtestCommand(program, io, result);
  return program;
}

/**
 * Runs `diaryx-sync` with `args` (without `node` and the script) and returns the exit code.
 * Errors are printed as one line on stderr: `diaryx-sync: error: …`.
 */
export async function runCli(
  args: readonly string[],
  io: CliIo,
  tuning: ClientTuning & StartHooks = {},
): Promise<ExitCodeValue> {
  const result: { code: ExitCodeValue } = { code: ExitCode.Ok };
  const program = createProgram(io, result, tuning);
  try {
    if (args.length === 0) {
      program.outputHelp();
      return ExitCode.Usage;
    }
    await program.parseAsync([...args], { from: 'user' });
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.help' ||
        err.code === 'commander.version'
      ) {
        return ExitCode.Ok;
      }
      return ExitCode.Usage; // commander already printed the one-line error
    }
    const { exitCode, message } = describeError(err);
    io.err(`diaryx-sync: error: ${message}\n`);
    return exitCode;
  }
}
