import { Option, type Command } from 'commander';
import { isValidWorkspaceId } from '@diaryx-sync/crdt';
import type { ReconnectOptions, TokenProvider } from '@diaryx-sync/protocol/node';
import { CliError } from './cli-error';
import { ExitCode } from './exit-codes';
import type { CliIo } from './io';
import { ShareJoin } from './share-join';

/** Options shared by every command. */
export interface ConnectionOptions {
  readonly server: string;
  readonly workspace: string;
  /** `--token`, or with `--join` the share's guest tokens, renewed before they expire (share-join.ts). */
  readonly token: string | TokenProvider;
  /** Consecutive failed reconnect attempts allowed (undefined: the command's default). */
  readonly retries: number | undefined;
  readonly timeoutMs: number | undefined;
  readonly progress: boolean;
  readonly quiet: boolean;
}

/** Adds `--server`, `--workspace`, `--token`, `--join`, `--retries`, `--timeout`, `--no-progress`, `--quiet`. */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('-s, --server <url>', 'sync server, e.g. ws://localhost:8080 (env DIARYX_SYNC_SERVER)'),
    )
    .addOption(new Option('-w, --workspace <id>', 'workspace id (env DIARYX_SYNC_WORKSPACE)'))
    .addOption(new Option('-t, --token <jwt>', 'access token (env DIARYX_SYNC_TOKEN)'))
    .addOption(
      new Option(
        '--join <code>',
        'share-link join code instead of --token (implies its workspace)',
      ).conflicts('token'),
    )
    .addOption(
      new Option('--retries <n>', 'reconnect attempts after a failure (pull/push: 3, start: unlimited)'),
    )
    .addOption(
      new Option('--timeout <seconds>', 'give up after this long (default: grows with the file count)'),
    )
    .option('--no-progress', 'no progress bar')
    .option('-q, --quiet', 'print only errors');
}

function positiveInt(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new CliError(
      ExitCode.Usage,
      `--${name} must be a non-negative integer, got ${JSON.stringify(raw)}`,
    );
  return n;
}

/**
 * Validates the shared options (command line first, then environment). With `--join CODE` the
 * code is exchanged for a guest token of its workspace (`POST /api/shares/{code}/token`,
 * docs/protocol.md#share-links), `--workspace` may be left out, and the token is a provider that
 * exchanges the code again before each guest token expires.
 */
export async function resolveConnectionOptions(
  raw: Record<string, unknown>,
  io: CliIo,
): Promise<ConnectionOptions> {
  const join = typeof raw.join === 'string' && raw.join !== '' ? raw.join : undefined;
  if (join === undefined) return readConnectionOptions(raw, io);
  const server = typeof raw.server === 'string' && raw.server !== '' ? raw.server : io.env.DIARYX_SYNC_SERVER;
  if (!server) throw new CliError(ExitCode.Usage, 'missing --server (or DIARYX_SYNC_SERVER)');
  const share = await ShareJoin.open(server, join);
  if (typeof raw.workspace === 'string' && raw.workspace !== share.workspace) {
    throw new CliError(
      ExitCode.Usage,
      `--join is a share of workspace ${JSON.stringify(share.workspace)}, not ${JSON.stringify(raw.workspace)}`,
    );
  }
  return readConnectionOptions({ ...raw, workspace: share.workspace }, io, share.token);
}

/**
 * Validates the shared options (command line first, then environment); `provider` (a share's
 * guest tokens) stands for `--token`.
 */
export function readConnectionOptions(
  raw: Record<string, unknown>,
  io: CliIo,
  provider?: TokenProvider,
): ConnectionOptions {
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const server = str(raw.server) ?? str(io.env.DIARYX_SYNC_SERVER);
  const workspace = str(raw.workspace) ?? str(io.env.DIARYX_SYNC_WORKSPACE);
  const token = provider ?? str(raw.token) ?? str(io.env.DIARYX_SYNC_TOKEN);
  if (server === undefined) throw new CliError(ExitCode.Usage, 'missing --server (or DIARYX_SYNC_SERVER)');
  if (workspace === undefined)
    throw new CliError(ExitCode.Usage, 'missing --workspace (or DIARYX_SYNC_WORKSPACE)');
  try {
    const url = new URL(server);
    if (!['ws:', 'wss:', 'http:', 'https:'].includes(url.protocol)) throw new Error('protocol');
  } catch {
    throw new CliError(
      ExitCode.Usage,
      `--server must be a ws://, wss://, http:// or https:// URL, got ${JSON.stringify(server)}`,
    );
  }
  if (!isValidWorkspaceId(workspace)) {
    throw new CliError(
      ExitCode.Usage,
      `--workspace must match [A-Za-z0-9_-]{1,64}, got ${JSON.stringify(workspace)}`,
    );
  }
  if (token === undefined)
    throw new CliError(
      ExitCode.Usage,
      'missing --token (or DIARYX_SYNC_TOKEN): the server needs an access token for the workspace',
    );
  const timeout = str(raw.timeout);
  return {
    server,
    workspace,
    token,
    retries: raw.retries === undefined ? undefined : positiveInt('retries', String(raw.retries)),
    timeoutMs: timeout === undefined ? undefined : positiveInt('timeout', timeout) * 1000,
    progress: raw.progress !== false,
    quiet: raw.quiet === true,
  };
}

/** The reconnect policy for `retries`. */
export function reconnectFor(retries: number | undefined, fallback: number): Partial<ReconnectOptions> {
  return { maxAttempts: retries ?? fallback };
}
