/** Errors thrown or rejected by a {@link DiaryxClient}. */

/** Why an operation failed: `read_only` (viewer token), `timeout`, `closed` (client destroyed or refused), `not_found`, `invalid_path`, `exists`. */
export type DiaryxClientErrorCode =
  'read_only' | 'timeout' | 'closed' | 'not_found' | 'invalid_path' | 'exists';

/** An operation of the client failed; `code` says why. */
export class DiaryxClientError extends Error {
  constructor(
    readonly code: DiaryxClientErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DiaryxClientError';
  }
}
