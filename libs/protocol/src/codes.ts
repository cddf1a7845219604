/**
 * Close codes and error codes of the wire protocol (docs/protocol.md#close-codes).
 *
 * Close codes are WebSocket close codes sent by the gateway; codes in 4400-4499 are permanent
 * (the client must not reconnect), the others are transient.
 */

/** WebSocket close codes used by the cluster. */
export const CloseCode = {
  /** 4400: malformed binary frame (bad length, bad varint, unknown message type, bad doc id). */
  ProtocolError: 4400,
  /** 4401: token invalid or expired (also mid-session, when it expires). */
  Unauthorized: 4401,
  /** 4403: doc outside the token's tenant/workspaces. */
  Forbidden: 4403,
  /** 4413: frame larger than the configured maximum (default 16 MiB). */
  FrameTooLarge: 4413,
  /** 1008: rate limit exceeded (reconnect with backoff). */
  RateLimited: 1008,
  /** 1013: overloaded or document temporarily unavailable (reconnect with backoff). */
  Overloaded: 1013,
  /** 1001: gateway shutting down / draining (reconnect). */
  GoingAway: 1001,
} as const;

/** One of the {@link CloseCode} values. */
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * True when a client must NOT reconnect after the server closed with `code`
 * (the 4400-4499 range: protocol, auth and authorization errors).
 */
export function isPermanentCloseCode(code: number): boolean {
  return code >= 4400 && code <= 4499;
}

/** `code` values of `{"type":"error"}` control messages. */
export const ErrorCode = {
  /** A viewer sent a SyncStep2/Update that would change the document. */
  ReadOnly: 'read_only',
  /** A text frame that is valid JSON but not a known control message. */
  UnknownMessage: 'unknown_message',
  /** A text frame that is not valid JSON. */
  BadJson: 'bad_json',
  /**
   * A `focus`/`unfocus` with more doc ids than allowed per message, or a focus that would take the
   * connection beyond its focused-path limit; the message was not applied (docs/limits.md).
   */
  FocusLimit: 'focus_limit',
} as const;

/** One of the {@link ErrorCode} values. */
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Maximum length in UTF-8 bytes of a WebSocket close reason (RFC 6455: 125 - 2 bytes of code). */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * `error.code` values of the HTTP API (`{"error":{"code","message"}}`, docs/protocol.md#error-codes)
 * and of HTTP answers refusing a WebSocket upgrade. Every HTTP error of the gateway uses one of
 * these; a new error gets a new entry here and a row in the documented table.
 */
export const HttpErrorCode = {
  /** 400: a field, query parameter or body fails its schema (details in `issues`), or malformed JSON. */
  InvalidRequest: 'invalid_request',
  /** 400: `cursor` is not a cursor this list handed out. */
  InvalidCursor: 'invalid_cursor',
  /** 400: a path breaks the safe name rules. */
  UnsafePath: 'unsafe_path',
  /** 400: a malformed doc id in the URL of `/yjs`. */
  BadDocId: 'bad_doc_id',
  /** 400: `doc` is not a canonical doc id of this workspace. */
  InvalidDoc: 'invalid_doc',
  /** 400: `commit_id` is not a 40-character hex commit id. */
  InvalidCommitId: 'invalid_commit_id',
  /** 400: `mode` of a zip import is not `merge` or `replace`. */
  InvalidMode: 'invalid_mode',
  /** 400: not a readable zip. */
  InvalidZip: 'invalid_zip',
  /** 400: a zip entry that is not UTF-8 markdown. */
  InvalidFile: 'invalid_file',
  /** 400: one file or the sum of the files of a zip over its limit. */
  TooLarge: 'too_large',
  /** 400: more zip entries or markdown files than an import allows. */
  TooManyFiles: 'too_many_files',
  /** 400: an attachment hash in the URL is not a lowercase hex SHA-256. */
  InvalidHash: 'invalid_hash',
  /** 400: an attachment upload's bytes do not have the declared `size`; nothing is stored. */
  SizeMismatch: 'size_mismatch',
  /** 400: an attachment upload's bytes do not have the declared SHA-256; nothing is stored. */
  HashMismatch: 'hash_mismatch',
  /** 400: a token subprotocol offered without `diaryx-sync`. */
  BadSubprotocol: 'bad_subprotocol',
  /** 400: `confirm` does not repeat the id of what is being deleted. */
  ConfirmationRequired: 'confirmation_required',
  /** 401: missing or invalid credentials. */
  Unauthorized: 'unauthorized',
  /** 401: the token is past its `exp`. */
  TokenExpired: 'token_expired',
  /** 401: the token was revoked (`DELETE /api/tokens/{jti}`). */
  TokenRevoked: 'token_revoked',
  /** 403: authenticated, but the role may not do this. */
  Forbidden: 'forbidden',
  /** 403: a write on a read-only surface (`/ops/queues` without `OPS_QUEUES_WRITE`). */
  ReadOnly: 'read_only',
  /** 404: absent or not visible to the caller. */
  NotFound: 'not_found',
  /** 404: the version of a restore does not exist. */
  VersionNotFound: 'version_not_found',
  /** 405: the path exists but not with this method (`Allow` lists the methods). */
  MethodNotAllowed: 'method_not_allowed',
  /** 409: the workspace id is taken in this tenant. */
  WorkspaceExists: 'workspace_exists',
  /** 409: the workspace equals the last commit. */
  NothingToCommit: 'nothing_to_commit',
  /** 409: the workspace still fails validation after repair. */
  ValidationFailed: 'validation_failed',
  /** 413: the request body is over its limit (JSON, form or upload). */
  PayloadTooLarge: 'payload_too_large',
  /** 415: the body's `Content-Type` is not one the route accepts. */
  UnsupportedMediaType: 'unsupported_media_type',
  /** 426: a plain GET on a WebSocket endpoint. */
  UpgradeRequired: 'upgrade_required',
  /** 429: too many requests (`Retry-After`). */
  RateLimited: 'rate_limited',
  /** 429: the gateway or tenant already runs its maximum of zip imports (`Retry-After`). */
  TooManyImports: 'too_many_imports',
  /** 500: an unexpected server error (details are logged, not returned). */
  Internal: 'internal',
  /** 503: a dependency (shard owner, Redis, PostgreSQL) did not answer in time. */
  Unavailable: 'unavailable',
  /** 503: the gateway is shutting down. */
  Draining: 'draining',
  /** 503: no history worker answered. */
  HistoryUnavailable: 'history_unavailable',
  /** 503: the history job failed. */
  HistoryJobFailed: 'history_job_failed',
} as const;

/** One of the {@link HttpErrorCode} values. */
export type HttpErrorCodeValue = (typeof HttpErrorCode)[keyof typeof HttpErrorCode];

/** Every documented HTTP error code (docs/protocol.md#error-codes). */
export const HTTP_ERROR_CODES: readonly HttpErrorCodeValue[] = Object.values(HttpErrorCode);
