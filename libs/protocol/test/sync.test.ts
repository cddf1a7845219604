import fc from 'fast-check';
import * as encoding from 'lib0/encoding';
import * as syncProtocol from 'y-protocols/sync';
import * as authProtocol from 'y-protocols/auth';
import * as Y from 'yjs';
import {
  decodeMessages,
  encodeMessage,
  encodeMessages,
  ProtocolError,
  ProtocolMessage,
  splitMessages,
} from '@diaryx-sync/protocol';
import { expectProtocolError } from './helpers/expect-protocol-error';

const bytes = (...b: number[]) => new Uint8Array(b);

describe('y-protocols messages', () => {
  const all: ProtocolMessage[] = [
    { type: 'syncStep1', stateVector: bytes(1, 2, 3) },
    { type: 'syncStep2', update: bytes(0, 0) },
    { type: 'update', update: bytes(9) },
    { type: 'awareness', update: bytes(1, 2) },
    { type: 'permissionDenied', reason: 'read-only ✋' },
    { type: 'queryAwareness' },
  ];

  it('round-trips several messages in one payload (yjs dialect)', () => {
    const payload = encodeMessages(all);
    expect(decodeMessages(payload, 'yjs')).toEqual(all);
    expect(splitMessages(payload, 'yjs').map((p) => decodeMessages(p, 'yjs')[0])).toEqual(all);
  });

  it('encodes byte-compatibly with y-protocols', () => {
    const doc = new Y.Doc();
    doc.getText('body').insert(0, 'hello');
    const enc = encoding.createEncoder();
    encoding.writeVarUint(enc, 0);
    syncProtocol.writeSyncStep1(enc, doc);
    expect(encodeMessage({ type: 'syncStep1', stateVector: Y.encodeStateVector(doc) })).toEqual(
      encoding.toUint8Array(enc),
    );
    const enc2 = encoding.createEncoder();
    encoding.writeVarUint(enc2, 0);
    syncProtocol.writeUpdate(enc2, Y.encodeStateAsUpdate(doc));
    expect(encodeMessage({ type: 'update', update: Y.encodeStateAsUpdate(doc) })).toEqual(
      encoding.toUint8Array(enc2),
    );
    const enc3 = encoding.createEncoder();
    encoding.writeVarUint(enc3, 2);
    authProtocol.writePermissionDenied(enc3, 'nope');
    expect(encodeMessage({ type: 'permissionDenied', reason: 'nope' })).toEqual(encoding.toUint8Array(enc3));
    expect(Array.from(encodeMessage({ type: 'permissionDenied', reason: 'x' }))).toEqual([2, 0, 1, 120]);
  });

  it('sync2 allows only Sync and Awareness', () => {
    expect(decodeMessages(encodeMessages(all.slice(0, 4)), 'sync2')).toEqual(all.slice(0, 4));
    expectProtocolError(() => decodeMessages(bytes(3)), 'unknown_message_type');
    expectProtocolError(() => decodeMessages(bytes(2, 0, 0)), 'unknown_message_type');
    expectProtocolError(() => decodeMessages(bytes(3), 'sync2'), 'unknown_message_type');
  });

  it.each([
    ['empty payload', [], 'empty_payload'],
    ['unknown outer type 4', [4], 'unknown_message_type'],
    ['unknown outer type (multi-byte varint 200)', [0xc8, 0x01], 'unknown_message_type'],
    ['unknown sync subtype', [0, 3, 0], 'unknown_message_type'],
    ['unknown auth subtype', [2, 1, 0], 'unknown_message_type'],
    ['truncated type varint', [0x80], 'bad_varint'],
    ['truncated subtype', [0], 'bad_varint'],
    ['truncated length varint', [0, 1, 0xff], 'bad_varint'],
    ['missing length', [0, 1], 'bad_varint'],
    ['length overrun', [0, 2, 5, 1, 2], 'length_overrun'],
    ['awareness length overrun', [1, 2, 1], 'length_overrun'],
    ['second message truncated', [0, 2, 1, 7, 0], 'bad_varint'],
    ['varint over 2^53', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 'bad_varint'],
    ['invalid UTF-8 reason', [2, 0, 2, 0xc3, 0x28], 'bad_update'],
  ])('rejects %s', (_name, input, kind) => {
    expectProtocolError(() => decodeMessages(new Uint8Array(input as number[]), 'yjs'), kind as string);
  });

  it('property: any list of messages round-trips', () => {
    const arbMessage: fc.Arbitrary<ProtocolMessage> = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((stateVector) => ({ type: 'syncStep1' as const, stateVector })),
      fc.uint8Array({ maxLength: 40 }).map((update) => ({ type: 'syncStep2' as const, update })),
      fc.uint8Array({ maxLength: 40 }).map((update) => ({ type: 'update' as const, update })),
      fc.uint8Array({ maxLength: 40 }).map((update) => ({ type: 'awareness' as const, update })),
      fc.string({ maxLength: 20 }).map((reason) => ({ type: 'permissionDenied' as const, reason })),
      fc.constant({ type: 'queryAwareness' as const }),
    );
    fc.assert(
      fc.property(fc.array(arbMessage, { minLength: 1, maxLength: 6 }), (messages) => {
        expect(decodeMessages(encodeMessages(messages), 'yjs')).toEqual(messages);
      }),
    );
  });

  it('fuzz: random bytes decode or throw ProtocolError, nothing else', () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      // biased towards valid-looking prefixes
      fc
        .tuple(fc.constantFrom(0, 1, 2, 3), fc.constantFrom(0, 1, 2), fc.uint8Array({ maxLength: 30 }))
        .map(([a, b, rest]) => new Uint8Array([a, b, ...rest])),
    );
    fc.assert(
      fc.property(arb, fc.constantFrom('sync2' as const, 'yjs' as const), (input, dialect) => {
        try {
          const messages = decodeMessages(input, dialect);
          // Same messages again; not always the same bytes: a varint may arrive in more bytes than
          // needed (`91 00` = 17) and is written back in the shortest form (found by fast-check).
          expect(decodeMessages(encodeMessages(messages), dialect)).toEqual(messages);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
          expect((error as ProtocolError).closeCode).toBe(4400);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('y-protocols messages: layout of a multi-message payload', () => {
  it('Sync 0 (subtypes 0/1/2) and Awareness 1, several per payload', () => {
    const sv = new Uint8Array([0]);
    const upd = new Uint8Array([0, 0]);
    const aw = new Uint8Array([0]);
    const payload = encodeMessages([
      { type: 'syncStep1', stateVector: sv },
      { type: 'syncStep2', update: upd },
      { type: 'update', update: upd },
      { type: 'awareness', update: aw },
    ]);
    expect([...payload]).toEqual([0, 0, 1, 0, 0, 1, 2, 0, 0, 0, 2, 2, 0, 0, 1, 1, 0]);
    expect(decodeMessages(payload).map((m) => m.type)).toEqual([
      'syncStep1',
      'syncStep2',
      'update',
      'awareness',
    ]);
  });

  it('strict decoding names truncated varints and lengths, unknown types and empty payloads (close 4400)', () => {
    expectProtocolError(() => decodeMessages(new Uint8Array([0x80])), 'bad_varint');
    expectProtocolError(() => decodeMessages(new Uint8Array([0, 0, 0x85])), 'bad_varint');
    expectProtocolError(() => decodeMessages(new Uint8Array([0, 1, 5, 1, 2])), 'length_overrun');
    expectProtocolError(() => decodeMessages(new Uint8Array([1, 3, 0])), 'length_overrun');
    expectProtocolError(() => decodeMessages(new Uint8Array([0, 3, 0])), 'unknown_message_type');
    expectProtocolError(() => decodeMessages(new Uint8Array([7])), 'unknown_message_type');
    expectProtocolError(() => decodeMessages(new Uint8Array([])), 'empty_payload');
    expect(expectProtocolError(() => decodeMessages(new Uint8Array([0x80]))).closeCode).toBe(4400);
  });
});
