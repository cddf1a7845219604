/**
 * Framing of the multiplexed `/sync2` endpoint (docs/protocol.md#the-multiplexed-endpoint-sync2).
 *
 * Every binary WebSocket frame carries one document's y-protocols payload, prefixed with the
 * document id:
 *
 * ```
 * [u8 docIdLength][docId: UTF-8 bytes][payload: one or more y-protocols messages]
 * ```
 *
 * The doc id is 1-255 UTF-8 bytes; the payload is never empty. `decodeFrame` checks only the
 * framing (lengths, UTF-8); validate the doc id itself with `parseDocId` (`@diaryx-sync/crdt`) and the
 * payload with `decodeMessages` (sync.ts). Any violation is a {@link ProtocolError} (close 4400;
 * 4413 for a frame over `maxFrameBytes`).
 */
import { MAX_DOC_ID_BYTES } from '@diaryx-sync/crdt';
import { CloseCode } from './codes';
import { ProtocolError } from './errors';
import { decodeUtf8Strict } from './strict-decoding';

/** A decoded `/sync2` binary frame. */
export interface Frame {
  /** The document id, as sent (not yet validated against docs/protocol.md#names; see `parseDocId`). */
  docId: string;
  /** The y-protocols payload (a view into the frame bytes, not a copy). Never empty. */
  payload: Uint8Array;
}

/** Options of {@link decodeFrame}. */
export interface DecodeFrameOptions {
  /** Reject frames larger than this many bytes with a 4413 {@link ProtocolError}. */
  maxFrameBytes?: number;
}

const utf8Encoder = new TextEncoder();

/** UTF-8 length of a string in bytes. */
export function utf8ByteLength(text: string): number {
  return utf8Encoder.encode(text).length;
}

/**
 * Frames `payload` for `docId`: `[u8 len][docId][payload]`.
 *
 * @throws {@link ProtocolError} when the doc id is empty or longer than 255 UTF-8 bytes, or the
 * payload is empty (the same rules {@link decodeFrame} enforces).
 */
export function encodeFrame(docId: string, payload: Uint8Array): Uint8Array {
  const id = utf8Encoder.encode(docId);
  if (id.length === 0) throw new ProtocolError('bad_doc_id', 'frame: empty doc id');
  if (id.length > MAX_DOC_ID_BYTES) {
    throw new ProtocolError(
      'doc_id_too_long',
      `frame: doc id is ${id.length} bytes (max ${MAX_DOC_ID_BYTES})`,
    );
  }
  if (payload.length === 0) throw new ProtocolError('empty_payload', 'frame: empty payload');
  const out = new Uint8Array(1 + id.length + payload.length);
  out[0] = id.length;
  out.set(id, 1);
  out.set(payload, 1 + id.length);
  return out;
}

/**
 * Splits a binary frame into doc id and payload.
 *
 * @throws {@link ProtocolError} on an empty frame, a zero or overrunning doc id length, invalid
 * UTF-8 in the doc id, an empty payload, or (with `maxFrameBytes`) an oversized frame (4413).
 */
export function decodeFrame(bytes: Uint8Array, options: DecodeFrameOptions = {}): Frame {
  if (options.maxFrameBytes !== undefined && bytes.length > options.maxFrameBytes) {
    throw new ProtocolError(
      'frame_too_large',
      `frame: ${bytes.length} bytes exceeds the maximum of ${options.maxFrameBytes}`,
      CloseCode.FrameTooLarge,
    );
  }
  if (bytes.length === 0) throw new ProtocolError('length_overrun', 'frame: empty frame');
  const idLength = bytes[0] as number;
  if (idLength === 0) throw new ProtocolError('bad_doc_id', 'frame: empty doc id');
  if (1 + idLength > bytes.length) {
    throw new ProtocolError(
      'length_overrun',
      `frame: doc id length ${idLength} exceeds the ${bytes.length - 1} remaining bytes`,
    );
  }
  const docId = decodeUtf8Strict(bytes.subarray(1, 1 + idLength), 'frame doc id', 'bad_doc_id');
  const payload = bytes.subarray(1 + idLength);
  if (payload.length === 0) throw new ProtocolError('empty_payload', 'frame: empty payload');
  return { docId, payload };
}
