import fc from 'fast-check';
import { decodeFrame, decodeMessages, encodeFrame, ProtocolError } from '@diaryx-sync/protocol';
import { DocIdError, MAX_DOC_ID_BYTES, parseDocId } from '@diaryx-sync/crdt';
import { expectProtocolError } from './helpers/expect-protocol-error';

describe('framing', () => {
  it('lays out [u8 len][docId][payload] byte for byte', () => {
    const frame = encodeFrame('workspace:ws', new Uint8Array([0, 0, 1, 0]));
    expect(Array.from(frame)).toEqual([12, ...Buffer.from('workspace:ws'), 0, 0, 1, 0]);
  });

  it('round-trips doc ids with multi-byte UTF-8', () => {
    const docId = 'body:ws/journal/été 🌞.md';
    const payload = new Uint8Array([1, 2, 3]);
    const { docId: d, payload: p } = decodeFrame(encodeFrame(docId, payload));
    expect(d).toBe(docId);
    expect(Array.from(p)).toEqual([1, 2, 3]);
  });

  it('accepts a doc id of exactly 255 bytes and rejects 256', () => {
    const ok = 'w'.repeat(MAX_DOC_ID_BYTES);
    expect(decodeFrame(encodeFrame(ok, new Uint8Array([1]))).docId).toBe(ok);
    expectProtocolError(() => encodeFrame(ok + 'w', new Uint8Array([1])), 'doc_id_too_long');
    // 128 two-byte characters = 256 bytes
    expectProtocolError(() => encodeFrame('é'.repeat(128), new Uint8Array([1])), 'doc_id_too_long');
  });

  it('rejects an empty payload, both ways', () => {
    expectProtocolError(() => encodeFrame('workspace:a', new Uint8Array()), 'empty_payload');
    const bytes = new Uint8Array([11, ...Buffer.from('workspace:a')]);
    expectProtocolError(() => decodeFrame(bytes), 'empty_payload');
  });

  it('rejects an empty frame, a zero-length doc id and a length overrun', () => {
    expectProtocolError(() => decodeFrame(new Uint8Array()), 'length_overrun');
    expectProtocolError(() => decodeFrame(new Uint8Array([0, 1, 2])), 'bad_doc_id');
    expectProtocolError(() => decodeFrame(new Uint8Array([200, 65, 66])), 'length_overrun');
    expectProtocolError(() => encodeFrame('', new Uint8Array([1])), 'bad_doc_id');
  });

  it('rejects invalid UTF-8 in the doc id', () => {
    expectProtocolError(() => decodeFrame(new Uint8Array([2, 0xc3, 0x28, 1])), 'bad_doc_id');
  });

  it('keeps a leading BOM instead of silently dropping it', () => {
    const frame = decodeFrame(new Uint8Array([4, 0xef, 0xbb, 0xbf, 65, 1]));
    expect(frame.docId).toBe('\ufeffA');
  });

  it('rejects frames over maxFrameBytes with close code 4413', () => {
    const frame = encodeFrame('workspace:a', new Uint8Array(100));
    expect(decodeFrame(frame, { maxFrameBytes: frame.length }).payload.length).toBe(100);
    expectProtocolError(
      () => decodeFrame(frame, { maxFrameBytes: frame.length - 1 }),
      'frame_too_large',
      4413,
    );
  });

  it('round-trips any doc id of 1-255 bytes and any non-empty payload (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 80, unit: 'grapheme' }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (docId, payload) => {
          fc.pre(Buffer.byteLength(docId, 'utf8') <= 255);
          const decoded = decodeFrame(encodeFrame(docId, payload));
          expect(decoded.docId).toBe(docId);
          expect(Array.from(decoded.payload)).toEqual(Array.from(payload));
        },
      ),
    );
  });

  it('fuzz: random bytes either decode or throw ProtocolError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const { docId, payload } = decodeFrame(bytes);
          expect(payload.length).toBeGreaterThan(0);
          expect(Buffer.byteLength(docId, 'utf8')).toBe(bytes[0]);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          expect((error as ProtocolError).closeCode).toBe(4400);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('framing: the [u8 len][docId][payload] layout', () => {
  it('writes the doc id length as one byte, then the UTF-8 doc id, then the payload', () => {
    const bytes = encodeFrame('workspace:w1', new Uint8Array([0, 0, 1, 0]));
    expect([...bytes.subarray(0, 1)]).toEqual([12]);
    expect(Buffer.from(bytes.subarray(1, 13)).toString('utf8')).toBe('workspace:w1');
    expect(decodeFrame(bytes).docId).toBe('workspace:w1');
    expect([...decodeFrame(bytes).payload]).toEqual([0, 0, 1, 0]);
  });

  it('names a length overrun, an empty doc id and an empty payload by their kinds', () => {
    expectProtocolError(() => decodeFrame(new Uint8Array([5, 97, 98])), 'length_overrun');
    expectProtocolError(() => decodeFrame(new Uint8Array([0, 0, 0])), 'bad_doc_id');
    expectProtocolError(() => decodeFrame(new Uint8Array([1, 97])), 'empty_payload');
  });

  it('fuzz: frame, doc id and payload decoding of random bytes only ever throws ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const f = decodeFrame(bytes);
          parseDocId(f.docId);
          decodeMessages(f.payload);
        } catch (err) {
          if (!(err instanceof ProtocolError) && !(err instanceof DocIdError)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
