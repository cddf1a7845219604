/** Why a {@link SyncClient} run failed. */
export type SyncClientErrorKind =
  /** HTTP 401 at the upgrade or close 4401: the token is invalid or expired. */
  | 'unauthorized'
  /** Close 4403: the workspace does not exist or the token does not cover it. */
  | 'forbidden'
  /** Close 4400 / 4413 or another 44xx code: the server rejected what we sent. */
  | 'protocol'
  /** No connection could be established (or kept) within the allowed attempts. */
  | 'unreachable'
  /** The one-shot run or a `save` did not finish in time. */
  | 'timeout'
  /** The run was stopped by {@link SyncClient.stop} or an abort signal. */
  | 'aborted';

/** A failed {@link SyncClient} operation, with a one-line message. */
export class SyncClientError extends Error {
  constructor(
    readonly kind: SyncClientErrorKind,
    message: string,
    /** The WebSocket close code, when the server closed the connection. */
    readonly closeCode?: number,
    /** The HTTP status of a refused upgrade, when known. */
    readonly httpStatus?: number,
  ) {
    super(message);
    this.name = 'SyncClientError';
  }
}

/** Maps a permanent close code (4400-4499) to an error. */
export function errorForCloseCode(code: number, reason: string): SyncClientError {
  const detail = reason !== '' ? `: ${reason}` : '';
  if (code === 4401)
    return new SyncClientError('unauthorized', `token rejected by the server (4401${detail})`, code);
  if (code === 4403 && reason === 'share revoked') {
    // A guest of a share link (docs/protocol.md#share-links): not a missing workspace.
    return new SyncClientError('forbidden', `the share link was revoked (4403${detail})`, code);
  }
  if (code === 4403) {
    return new SyncClientError(
      'forbidden',
      `workspace not found or not accessible with this token (4403${detail})`,
      code,
    );
  }
  return new SyncClientError('protocol', `server closed the connection with ${code}${detail}`, code);
}

/**
 * Maps a failed upgrade's HTTP status to an error: 401 → unauthorized, 403 → forbidden, 404 (no
 * sync endpoint at that path: a wrong server URL, not a missing workspace) → unreachable.
 */
export function errorForHttpStatus(status: number): SyncClientError {
  if (status === 401)
    return new SyncClientError('unauthorized', 'token rejected by the server (HTTP 401)', undefined, status);
  if (status === 404) {
    return new SyncClientError(
      'unreachable',
      'no sync endpoint at this URL (HTTP 404): the server URL should be the gateway address, e.g. ws://localhost:8080',
      undefined,
      status,
    );
  }
  if (status === 403) {
    return new SyncClientError(
      'forbidden',
      `workspace not found or not accessible (HTTP ${status})`,
      undefined,
      status,
    );
  }
  return new SyncClientError(
    'unreachable',
    `server refused the WebSocket upgrade (HTTP ${status})`,
    undefined,
    status,
  );
}
