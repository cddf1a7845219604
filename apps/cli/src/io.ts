/** Where the CLI writes and what it reads from its environment (injectable for tests). */
export interface CliIo {
  /** Normal output (one line per call, newline included by the caller). */
  readonly out: (text: string) => void;
  /** Errors and status. */
  readonly err: (text: string) => void;
  /** Stream for the progress bar; no bar when absent or not a TTY. */
  readonly progressStream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Environment variables (`DIARYX_SYNC_SERVER`, `DIARYX_SYNC_WORKSPACE`, `DIARYX_SYNC_TOKEN`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C: ends `start`, interrupts `pull`/`push`. */
  readonly signal?: AbortSignal;
}

/** The process's own IO. */
export function processIo(signal?: AbortSignal): CliIo {
  return {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    progressStream: process.stderr,
    env: process.env,
    signal,
  };
}
