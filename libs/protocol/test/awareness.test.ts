import fc from 'fast-check';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import {
  AwarenessRegistry,
  decodeAwarenessUpdate,
  encodeAwarenessUpdate,
  ProtocolError,
} from '@diaryx-sync/protocol';
import { expectProtocolError } from './helpers/expect-protocol-error';

describe('awareness codec', () => {
  it('decodes what y-protocols encodes and round-trips', () => {
    const doc = new Y.Doc();
    doc.clientID = 5;
    const awareness = new awarenessProtocol.Awareness(doc);
    try {
      awareness.setLocalState({ user: { name: 'ané' }, cursor: null });
      const update = awarenessProtocol.encodeAwarenessUpdate(awareness, [5]);
      const entries = decodeAwarenessUpdate(update);
      expect(entries).toEqual([{ clientId: 5, clock: 1, state: '{"user":{"name":"ané"},"cursor":null}' }]);
      expect(encodeAwarenessUpdate(entries)).toEqual(update);
    } finally {
      awareness.destroy();
    }
  });

  it.each([
    ['empty', []],
    ['count without entries', [1]],
    ['truncated state length', [1, 1, 1, 5, 0x6e]],
    ['state not JSON', [1, 1, 1, 2, 0x7b, 0x7b]],
    ['trailing bytes', [0, 9]],
    ['invalid UTF-8 state', [1, 1, 1, 2, 0xc3, 0x28]],
  ])('rejects %s', (_name, bytes) => {
    expectProtocolError(() => decodeAwarenessUpdate(new Uint8Array(bytes)));
  });

  it('fuzz: only ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          decodeAwarenessUpdate(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('AwarenessRegistry', () => {
  const entry = (clientId: number, clock: number, state: unknown) => ({
    clientId,
    clock,
    state: JSON.stringify(state),
  });

  it('ignores stale clocks and transfers ownership to the latest sender', () => {
    const registry = new AwarenessRegistry();
    registry.apply('a', encodeAwarenessUpdate([entry(1, 5, { v: 'new' })]));
    registry.apply('b', encodeAwarenessUpdate([entry(1, 4, { v: 'old' })]));
    expect(registry.clientIdsOf('a')).toEqual([1]);
    expect(registry.clientIdsOf('b')).toEqual([]);
    expect(decodeAwarenessUpdate(registry.snapshot() as Uint8Array)).toEqual([entry(1, 5, { v: 'new' })]);
    // the same client id reappears on another connection (reconnect) with a newer clock
    registry.apply('b', encodeAwarenessUpdate([entry(1, 6, { v: 'moved' })]));
    expect(registry.removeConnection('a')).toBeUndefined();
    expect(decodeAwarenessUpdate(registry.removeConnection('b') as Uint8Array)).toEqual([entry(1, 7, null)]);
    expect(registry.size).toBe(0);
    expect(registry.snapshot()).toBeUndefined();
  });

  it('treats a JSON null with whitespace as a removal', () => {
    const registry = new AwarenessRegistry();
    registry.apply('a', encodeAwarenessUpdate([entry(1, 1, { x: 1 })]));
    registry.apply('a', encodeAwarenessUpdate([{ clientId: 1, clock: 2, state: ' null ' }]));
    expect(registry.size).toBe(0);
    expect(registry.removeConnection('a')).toBeUndefined();
  });
});
