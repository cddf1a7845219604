/** Exit codes of `diaryx-sync` (stable: scripts rely on them). */
export const ExitCode = {
  /** Success. */
  Ok: 0,
  /** Unexpected failure (a bug, or an error not listed below). */
  Failure: 1,
  /** Bad command line (unknown option, missing argument). */
  Usage: 2,
  /** The server rejected the token (HTTP 401 / close 4401). */
  Unauthorized: 3,
  /** The workspace does not exist or the token does not cover it (4403). */
  WorkspaceNotFound: 4,
  /** The server could not be reached (or kept) within the allowed attempts. */
  Unreachable: 5,
  /** The operation did not finish in time. */
  Timeout: 6,
  /** The server rejected what we sent (4400, 4413, other 44xx). */
  ProtocolError: 7,
  /** A local file or folder could not be read or written. */
  LocalError: 8,
  /** `loadtest`: the run lost an update, replicas diverged or another check failed. */
  LoadtestFailed: 9,
  /** Interrupted (Ctrl-C during pull/push). */
  Interrupted: 130,
} as const;

/** One of the {@link ExitCode} values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
