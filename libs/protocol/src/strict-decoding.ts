/**
 * Bounds-checked readers over a lib0 `Decoder`, for bytes from the network (frames, y-protocols
 * payloads, awareness updates, `libs/bus` envelopes). Writing uses lib0 and y-protocols as they
 * are (sync.ts); reading untrusted input does not, because y-protocols' readers
 * (`readSyncMessage`, `readSyncStep1/2`, `readAuthMessage`, `applyAwarenessUpdate`) are lib0's
 * readers plus actions, and neither checks what this codec must:
 *
 * - Lengths are trusted. lib0 up to 0.2.118 (admitted by y-protocols' `lib0: ^0.2.85` and by this
 *   package's `^0.2.114`) reads `varUint8Array`/`varString` as
 *   `new Uint8Array(arr.buffer, arr.byteOffset + pos, len)` without comparing `len` with the bytes
 *   left: a length past the end of the message yields the bytes that FOLLOW it in the underlying
 *   ArrayBuffer (a pooled Node `Buffer`, the rest of a frame) or a `RangeError`. Only lib0 0.2.119
 *   and later throw there. {@link readBytesStrict} refuses it whatever lib0 is installed.
 * - Failures are untyped: lib0 throws plain `Error`s ("Unexpected end of array", "Integer out of
 *   Range"), invalid UTF-8 in `readVarString` is the `TextDecoder`'s `TypeError`, and
 *   `readVarUint` checks the 2^53 - 1 bound only on continuation bytes (the last byte can pass
 *   it). Here every failure is a {@link ProtocolError} with its kind and close code, the only
 *   error the gateway and the doc service expect from malformed input (docs/protocol.md,
 *   "y-protocols messages": a truncated varint or length, a varint above 2^53 - 1 → 4400).
 * - y-protocols reads and acts in one step: `readSyncMessage` applies to a `Y.Doc` and writes the
 *   answer while reading, catching apply errors and only logging them; `applyAwarenessUpdate`
 *   applies entries one by one, so a bad JSON state throws after earlier entries were applied.
 *   The server must validate a whole payload before anything is applied, and must examine a
 *   viewer's update without applying it (docs/protocol.md, "Server behaviour per document"), so
 *   it decodes with these readers into `ProtocolMessage`s (sync.ts) and decides afterwards
 *   (doc-sync-handler.ts).
 */
import * as decoding from 'lib0/decoding';
import { ProtocolError } from './errors';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Reads an unsigned LEB128 varint (lib0 `writeVarUint` format), at most 2^53 - 1. */
export function readVarUintStrict(decoder: decoding.Decoder, what = 'varint'): number {
  const arr = decoder.arr;
  let num = 0;
  let mult = 1;
  while (decoder.pos < arr.length) {
    const r = arr[decoder.pos++] as number;
    num += (r & 0x7f) * mult;
    if (num > MAX_SAFE) throw new ProtocolError('bad_varint', `${what}: varint out of range`);
    if (r < 0x80) return num;
    mult *= 128;
  }
  throw new ProtocolError('bad_varint', `${what}: truncated varint`);
}

/** Reads `len` bytes (a view, not a copy), failing when fewer remain. */
export function readBytesStrict(decoder: decoding.Decoder, len: number, what = 'bytes'): Uint8Array {
  const remaining = decoder.arr.length - decoder.pos;
  if (len > remaining) {
    throw new ProtocolError(
      'length_overrun',
      `${what}: length ${len} exceeds the ${remaining} remaining bytes`,
    );
  }
  const view = decoder.arr.subarray(decoder.pos, decoder.pos + len);
  decoder.pos += len;
  return view;
}

/** Reads a length-prefixed byte array (lib0 `writeVarUint8Array` format). */
export function readVarUint8ArrayStrict(decoder: decoding.Decoder, what = 'bytes'): Uint8Array {
  const len = readVarUintStrict(decoder, what);
  return readBytesStrict(decoder, len, what);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 strictly (invalid sequences throw {@link ProtocolError} of `kind`). */
export function decodeUtf8Strict(bytes: Uint8Array, what: string, kind: 'bad_doc_id' | 'bad_update'): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtocolError(kind, `${what}: invalid UTF-8`);
  }
}

/** Reads a length-prefixed UTF-8 string (lib0 `writeVarString` format). */
export function readVarStringStrict(decoder: decoding.Decoder, what = 'string'): string {
  return decodeUtf8Strict(readVarUint8ArrayStrict(decoder, what), what, 'bad_update');
}

/** True when the decoder has unread bytes. */
export function hasMore(decoder: decoding.Decoder): boolean {
  return decoder.pos < decoder.arr.length;
}
