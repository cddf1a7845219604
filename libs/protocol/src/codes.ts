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
