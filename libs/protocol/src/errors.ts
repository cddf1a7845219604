/**
 * The one error type of the codec: every malformed input (frame, doc id, y-protocols payload,
 * update) is reported as a {@link ProtocolError}, never as a random exception. It carries the
 * WebSocket close code to use and a reason that fits in a close frame.
 */
import type { DocIdError } from '@diaryx-sync/crdt';
import { CloseCode, MAX_CLOSE_REASON_BYTES } from './codes';

/** Why an input was rejected (stable, machine-readable). */
export type ProtocolErrorKind =
  /** The binary frame has an empty payload. */
  | 'empty_payload'
  /** A length prefix (doc id length, varUint8Array length) runs past the end of the input. */
  | 'length_overrun'
  /** A varint is cut off at the end of the input or exceeds 2^53. */
  | 'bad_varint'
  /** An unknown or disallowed outer message type, or an unknown sync subtype. */
  | 'unknown_message_type'
  /** The doc id is longer than 255 UTF-8 bytes. */
  | 'doc_id_too_long'
  /** The doc id is malformed (bad prefix, bad workspace id, non-canonical or invalid path, bad UTF-8). */
  | 'bad_doc_id'
  /** A path is not a valid workspace path. */
  | 'bad_path'
  /**
   * A body doc id's path is valid but unsafe for a new name: not NFC, a bidi control character,
   * a Windows reserved name, or over the name/path length limits (docs/protocol.md#paths).
   */
  | 'unsafe_path'
  /** A Yjs update or awareness update could not be decoded. */
  | 'bad_update'
  /**
   * A Yjs update depends on state the document does not have (structs starting beyond the doc's
   * clock for their client, or references/deletes that would stay pending): it can never apply
   * as sent; the client must resync (docs/limits.md, "Updates that cannot apply").
   */
  | 'missing_dependencies'
  /** The frame is larger than the configured maximum (close code 4413). */
  | 'frame_too_large';

/** Truncates `text` so that its UTF-8 encoding is at most `maxBytes` bytes (never splits a character). */
export function truncateUtf8(text: string, maxBytes: number = MAX_CLOSE_REASON_BYTES): string {
  const encoder = new TextEncoder();
  if (encoder.encode(text).length <= maxBytes) return text;
  let out = '';
  let used = 0;
  const ellipsis = '...';
  for (const ch of text) {
    const n = encoder.encode(ch).length;
    if (used + n > maxBytes - ellipsis.length) break;
    out += ch;
    used += n;
  }
  return out + ellipsis;
}

/** A malformed protocol input. `reason` is safe to use as a WebSocket close reason (≤ 123 bytes). */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** Machine-readable cause. */
  readonly kind: ProtocolErrorKind;
  /** WebSocket close code to close the connection with (4400, or 4413 for oversized frames). */
  readonly closeCode: number;
  /** Human-readable reason, at most 123 UTF-8 bytes (fits a WebSocket close frame). */
  readonly reason: string;

  /** A rejection of `kind`; `reason` is truncated to fit a close frame. */
  constructor(kind: ProtocolErrorKind, reason: string, closeCode: number = CloseCode.ProtocolError) {
    const short = truncateUtf8(reason);
    super(short);
    this.kind = kind;
    this.reason = short;
    this.closeCode = closeCode;
  }
}

/**
 * The {@link ProtocolError} (close 4400) of a doc id refused by `parseDocId` of
 * `@diaryx-sync/crdt`, for a doc id received on a connection.
 */
export function docIdProtocolError(error: DocIdError): ProtocolError {
  return new ProtocolError(error.kind, error.message);
}

/** Type guard for {@link ProtocolError}. */
export function isProtocolError(error: unknown): error is ProtocolError {
  return error instanceof ProtocolError;
}
