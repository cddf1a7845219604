/**
 * Bounds-checked readers over a lib0 `Decoder`. lib0's own `readVarUint8Array` silently returns
 * a short view when the length runs past the end; these readers throw {@link ProtocolError}
 * instead, so that decoding untrusted bytes can only fail with the typed error.
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
