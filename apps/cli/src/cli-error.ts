import { SyncClientError } from '@diaryx-sync/protocol/node';
import { ExitCode, type ExitCodeValue } from './exit-codes';

/** An error that ends the CLI with a one-line message and a given exit code. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCodeValue,
    message: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Maps any error to a one-line message and an exit code. */
export function describeError(err: unknown): { exitCode: ExitCodeValue; message: string } {
  if (err instanceof CliError) return { exitCode: err.exitCode, message: err.message };
  if (err instanceof SyncClientError) {
    const exitCode: ExitCodeValue = {
      unauthorized: ExitCode.Unauthorized,
      forbidden: ExitCode.WorkspaceNotFound,
      protocol: ExitCode.ProtocolError,
      unreachable: ExitCode.Unreachable,
      timeout: ExitCode.Timeout,
      aborted: ExitCode.Interrupted,
    }[err.kind];
    return { exitCode, message: oneLine(err.message) };
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return {
      exitCode: ExitCode.LocalError,
      message: oneLine(
        (err as { message?: unknown }).message !== undefined
          ? String((err as { message: unknown }).message)
          : String(err),
      ),
    };
  }
  return { exitCode: ExitCode.Failure, message: oneLine(err instanceof Error ? err.message : String(err)) };
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
