import fc from 'fast-check';
import {
  decodeEnvelope,
  decodeEnvelopeOf,
  encodeEnvelope,
  EnvelopeDecodeError,
  workspaceEventJson,
  type Envelope,
} from '@diaryx-sync/bus';

const str = fc.string({ unit: 'grapheme', maxLength: 40 });
const bytes = fc.uint8Array({ maxLength: 300 });
const role = fc.constantFrom('editor' as const, 'viewer' as const, 'admin' as const);

const envelopeArb: fc.Arbitrary<Envelope> = fc.oneof(
  fc.record({
    type: fc.constant('frame' as const),
    msgId: str,
    gatewayId: str,
    connId: str,
    tenant: str,
    role,
    docId: str,
    payload: bytes,
  }),
  fc.record({
    type: fc.constant('frame' as const),
    msgId: str,
    gatewayId: str,
    connId: str,
    tenant: str,
    role,
    docId: str,
    payload: bytes,
    receivedAt: fc.nat(),
  }),
  fc.record({
    type: fc.constant('save' as const),
    msgId: str,
    gatewayId: str,
    connId: str,
    tenant: str,
    docId: str,
  }),
  fc.record({ type: fc.constant('leave' as const), gatewayId: str, connId: str, tenant: str, docId: str }),
  fc.record({
    type: fc.constant('disconnect' as const),
    gatewayId: str,
    connId: str,
    tenant: str,
    docId: str,
  }),
  fc.record({
    type: fc.constant('focus' as const),
    gatewayId: str,
    connId: str,
    tenant: str,
    docId: str,
    files: fc.array(str, { maxLength: 5 }),
  }),
  fc.record({
    type: fc.constant('apply' as const),
    msgId: str,
    replyTo: str,
    tenant: str,
    docId: str,
    update: bytes,
    origin: str,
  }),
  fc.record({
    type: fc.constant('reply' as const),
    connId: str,
    docId: str,
    msgId: str,
    payloads: fc.array(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.record({ key: str })), {
      maxLength: 4,
    }),
    readOnlyViolation: fc.boolean(),
    ack: fc.boolean(),
    syncComplete: fc.option(fc.nat(), { nil: null }),
  }),
  fc.record({ type: fc.constant('saved' as const), connId: str, docId: str, msgId: str }),
  fc.record({
    type: fc.constant('error' as const),
    connId: str,
    docId: str,
    msgId: str,
    code: fc.constantFrom(
      'bad_payload' as const,
      'not_found' as const,
      'unavailable' as const,
      'internal' as const,
    ),
    message: str,
  }),
  fc.record({ type: fc.constant('applied' as const), msgId: str, docId: str }),
  fc.record({
    type: fc.constant('broadcast' as const),
    tenant: str,
    docId: str,
    originGatewayId: str,
    originConnId: str,
    payload: bytes,
  }),
  fc.record({
    type: fc.constant('broadcast' as const),
    tenant: str,
    docId: str,
    originGatewayId: str,
    originConnId: str,
    payload: bytes,
    receivedAt: fc.nat(),
  }),
  fc.record({
    type: fc.constant('workspace_event' as const),
    tenant: str,
    event: fc.oneof(
      fc.record({
        type: fc.constantFrom('peer_joined' as const, 'peer_left' as const),
        workspace: str,
        peer_count: fc.nat(),
      }),
      fc.record({
        type: fc.constant('focus_list_changed' as const),
        workspace: str,
        files: fc.array(str, { maxLength: 5 }),
      }),
    ),
  }),
  fc.record({
    type: fc.constant('shard_acquired' as const),
    shard: fc.nat(4096),
    instanceId: str,
    token: fc.nat(),
  }),
);

/** Normalizes byte views so that toEqual compares contents. */
function plain(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? Array.from(x) : x)));
}

describe('envelope codec', () => {
  it('round-trips every envelope kind', () => {
    fc.assert(
      fc.property(envelopeArb, (env) => {
        expect(plain(decodeEnvelope(encodeEnvelope(env)))).toEqual(plain(env));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps payload bytes verbatim (no JSON, no copy needed)', () => {
    const payload = new Uint8Array([0, 2, 3, 1, 2, 255]);
    const enc = encodeEnvelope({
      type: 'broadcast',
      tenant: 't',
      docId: 'body:w/a.md',
      originGatewayId: 'g',
      originConnId: 'c',
      payload,
    });
    const dec = decodeEnvelope(enc);
    expect(dec.type).toBe('broadcast');
    expect(Array.from((dec as { payload: Uint8Array }).payload)).toEqual(Array.from(payload));
    // the payload bytes appear literally just before the (absent) receivedAt byte
    expect(Array.from(enc.subarray(enc.length - 1 - payload.length, enc.length - 1))).toEqual(
      Array.from(payload),
    );
  });

  it('decodes from a Node Buffer that is a slice of a larger pooled buffer, without reading past it', () => {
    const enc = encodeEnvelope({ type: 'saved', connId: 'c', docId: 'd', msgId: 'm' });
    const big = Buffer.alloc(enc.length + 50, 7);
    big.set(enc, 10);
    const slice = big.subarray(10, 10 + enc.length);
    expect(decodeEnvelope(slice)).toEqual({ type: 'saved', connId: 'c', docId: 'd', msgId: 'm' });
    // a truncated view never reads the bytes after it
    expect(() => decodeEnvelope(big.subarray(10, 10 + enc.length - 1))).toThrow(EnvelopeDecodeError);
  });

  it('rejects every truncation and any trailing byte with EnvelopeDecodeError', () => {
    fc.assert(
      fc.property(envelopeArb, (env) => {
        const enc = encodeEnvelope(env);
        for (let n = 0; n < enc.length; n++) {
          expect(() => decodeEnvelope(enc.subarray(0, n))).toThrow(EnvelopeDecodeError);
        }
        const longer = new Uint8Array(enc.length + 1);
        longer.set(enc);
        expect(() => decodeEnvelope(longer)).toThrow(EnvelopeDecodeError);
      }),
      { numRuns: 200 },
    );
  });

  it('random bytes either decode or throw EnvelopeDecodeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(60), (raw, kind) => {
        const data = new Uint8Array([1, kind, ...raw]);
        for (const d of [raw, data]) {
          try {
            decodeEnvelope(d);
          } catch (err) {
            expect(err).toBeInstanceOf(EnvelopeDecodeError);
          }
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('rejects unknown versions, kinds, roles, huge lengths and invalid UTF-8', () => {
    expect(() => decodeEnvelope(new Uint8Array([2, 1]))).toThrow(/version/);
    expect(() => decodeEnvelope(new Uint8Array([1, 99]))).toThrow(/kind/);
    const frame = encodeEnvelope({
      type: 'frame',
      msgId: 'm',
      gatewayId: 'g',
      connId: 'c',
      tenant: 't',
      role: 'editor',
      docId: 'd',
      payload: new Uint8Array(),
    });
    const badRole = Uint8Array.from(frame);
    badRole[10] = 9; // role byte after 4 one-char strings: 2 + 4*2 = 10
    expect(() => decodeEnvelope(badRole)).toThrow(/role/);
    // applied {msgId: <len 2^40>}
    expect(() => decodeEnvelope(new Uint8Array([1, 23, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]))).toThrow(
      EnvelopeDecodeError,
    );
    // saved with invalid UTF-8 in connId
    expect(() => decodeEnvelope(new Uint8Array([1, 21, 1, 0xff, 0, 0]))).toThrow(/UTF-8/);
    // varUint longer than 8 bytes
    expect(() =>
      decodeEnvelope(new Uint8Array([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])),
    ).toThrow(EnvelopeDecodeError);
  });

  it('refuses to encode an empty reply payload (the marker of a stored one)', () => {
    const reply = {
      connId: 'c',
      docId: 'd',
      msgId: '1',
      readOnlyViolation: false,
      ack: true,
      syncComplete: null,
    };
    expect(() => encodeEnvelope({ type: 'reply', ...reply, payloads: [new Uint8Array(0)] })).toThrow(
      TypeError,
    );
    const ref = { key: 'p:payload:{t}:abc' };
    expect(
      decodeEnvelope(encodeEnvelope({ type: 'reply', ...reply, payloads: [Uint8Array.of(1, 2), ref] })),
    ).toEqual({
      type: 'reply',
      ...reply,
      payloads: [Uint8Array.of(1, 2), ref],
    });
  });

  it('refuses to encode unknown roles instead of writing garbage', () => {
    expect(() =>
      encodeEnvelope({
        type: 'frame',
        msgId: 'm',
        gatewayId: 'g',
        connId: 'c',
        tenant: 't',
        role: 'owner' as never,
        docId: 'd',
        payload: new Uint8Array(),
      }),
    ).toThrow(TypeError);
  });

  it('decodeEnvelopeOf checks the expected types', () => {
    const enc = encodeEnvelope({ type: 'applied', msgId: 'm', docId: 'd' });
    expect(decodeEnvelopeOf(enc, ['applied', 'error']).msgId).toBe('m');
    expect(() => decodeEnvelopeOf(enc, ['frame'])).toThrow(EnvelopeDecodeError);
  });

  it('workspaceEventJson gives the exact docs/protocol.md text frames', () => {
    expect(workspaceEventJson({ type: 'peer_joined', workspace: 'w', peer_count: 2 })).toBe(
      '{"type":"peer_joined","workspace":"w","peer_count":2}',
    );
    expect(workspaceEventJson({ type: 'peer_left', workspace: 'w', peer_count: 0 })).toBe(
      '{"type":"peer_left","workspace":"w","peer_count":0}',
    );
    expect(workspaceEventJson({ type: 'focus_list_changed', workspace: 'w', files: ['a.md'] })).toBe(
      '{"type":"focus_list_changed","workspace":"w","files":["a.md"]}',
    );
  });
});
