/**
 * Acceptance audit of issue 3 items 1-2 (codec and server-side session logic), through the
 * package root and the names the issue uses. Complements the per-module tests.
 */
import * as encoding from 'lib0/encoding';
import * as fc from 'fast-check';
import * as Y from 'yjs';
import {
  bodyDocId,
  ClientControlMessageSchema,
  decodeFrame,
  decodeMessages,
  DocSyncHandler,
  encodeFrame,
  encodeMessages,
  frame,
  parseClientControl,
  parseDocId,
  parseServerControl,
  ProtocolError,
  ServerControlMessageSchema,
  unframe,
  workspaceDocId,
} from '@diaryx-sync/protocol';

function kindOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e.kind;
    return `untyped:${String(e)}`;
  }
  return 'ok';
}

describe('1. codec', () => {
  test('frame/unframe are the [u8 len][docId][payload] codec', () => {
    const bytes = frame('workspace:w1', new Uint8Array([0, 0, 1, 0]));
    expect([...bytes.subarray(0, 1)]).toEqual([12]);
    expect(Buffer.from(bytes.subarray(1, 13)).toString('utf8')).toBe('workspace:w1');
    expect(unframe(bytes)).toEqual(decodeFrame(bytes));
    expect(encodeFrame('workspace:w1', new Uint8Array([0, 0, 1, 0]))).toEqual(bytes);
    expect(unframe(bytes).docId).toBe('workspace:w1');
    expect([...unframe(bytes).payload]).toEqual([0, 0, 1, 0]);
  });

  test('doc-id builders and parser reject what docs/protocol.md#names rejects, with the typed error', () => {
    expect(parseDocId(workspaceDocId('ws_7f3a'))).toEqual({ kind: 'workspace', workspaceId: 'ws_7f3a' });
    expect(parseDocId(bodyDocId('ws_7f3a', './journal/2024.md'))).toEqual({
      kind: 'body',
      workspaceId: 'ws_7f3a',
      path: 'journal/2024.md',
    });
    expect(bodyDocId('w', '/README.md')).toBe('body:w/README.md');
    const long = `body:w/${'a'.repeat(250)}.md`;
    expect(kindOf(() => parseDocId(long))).toBe('doc_id_too_long');
    expect(kindOf(() => bodyDocId('w', `${'é'.repeat(130)}.md`))).toBe('doc_id_too_long');
    for (const bad of ['a b', '', 'x'.repeat(65), 'ws/1', 'ws:1']) {
      expect(kindOf(() => workspaceDocId(bad))).toBe('bad_doc_id');
      expect(kindOf(() => parseDocId(`workspace:${bad}`))).toBe('bad_doc_id');
    }
    for (const bad of [
      'a/../b.md',
      '../a.md',
      'a//b.md',
      'a/\u0000.md',
      'a\u0007.md',
      'a/\u009f.md',
      'a/./b.md',
      '',
    ]) {
      expect(kindOf(() => parseDocId(`body:w/${bad}`))).toBe('bad_doc_id');
      expect(kindOf(() => bodyDocId('w', bad))).toMatch(/^bad_/);
    }
    // non-canonical spellings are a protocol error on the wire
    for (const nc of ['./a.md', '/a.md', 'a\\b.md'])
      expect(kindOf(() => parseDocId(`body:w/${nc}`))).toBe('bad_doc_id');
    expect(kindOf(() => parseDocId('doc:w'))).toBe('bad_doc_id');
  });

  test('y-sync messages: Sync 0 (subtypes 0/1/2) and Awareness 1, several per payload', () => {
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

  test('strict decoding reports truncated varints and lengths; unknown types are typed errors', () => {
    expect(kindOf(() => decodeMessages(new Uint8Array([0x80])))).toBe('bad_varint');
    expect(kindOf(() => decodeMessages(new Uint8Array([0, 0, 0x85])))).toBe('bad_varint');
    expect(kindOf(() => decodeMessages(new Uint8Array([0, 1, 5, 1, 2])))).toBe('length_overrun');
    expect(kindOf(() => decodeMessages(new Uint8Array([1, 3, 0])))).toBe('length_overrun');
    expect(kindOf(() => decodeMessages(new Uint8Array([0, 3, 0])))).toBe('unknown_message_type');
    expect(kindOf(() => decodeMessages(new Uint8Array([7])))).toBe('unknown_message_type');
    expect(kindOf(() => decodeMessages(new Uint8Array([])))).toBe('empty_payload');
    expect(kindOf(() => unframe(new Uint8Array([5, 97, 98])))).toBe('length_overrun');
    expect(kindOf(() => unframe(new Uint8Array([0, 0, 0])))).toBe('bad_doc_id');
    expect(kindOf(() => unframe(new Uint8Array([1, 97])))).toBe('empty_payload');
    const e = (() => {
      try {
        decodeMessages(new Uint8Array([0x80]));
      } catch (err) {
        return err as ProtocolError;
      }
      return null;
    })();
    expect(e).toBeInstanceOf(ProtocolError);
    expect(e?.closeCode).toBe(4400);
  });

  test('fuzz: frame + doc id + payload decoding of random bytes only ever throws ProtocolError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          const f = unframe(bytes);
          parseDocId(f.docId);
          decodeMessages(f.payload);
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('control messages: discriminated unions validated with zod, both directions', () => {
    expect(parseClientControl('{"type":"focus","files":["body:w/a.md"]}')).toMatchObject({
      ok: true,
      message: { type: 'focus', files: ['body:w/a.md'] },
    });
    expect(parseClientControl('{"action":"save","doc":"workspace:w"}')).toMatchObject({ ok: true });
    expect(parseClientControl('{"type":"files_ready"}')).toMatchObject({ ok: true });
    expect(parseClientControl('{"type":"FilesReady"}')).toMatchObject({ ok: true });
    expect(parseClientControl('{"type":"focus"}')).toMatchObject({ ok: false, code: 'unknown_message' });
    expect(parseClientControl('{nope')).toMatchObject({ ok: false, code: 'bad_json' });
    expect(JSON.parse((parseClientControl('{nope') as { reply: string }).reply)).toEqual({
      type: 'error',
      code: 'bad_json',
    });
    expect(parseServerControl('{"type":"sync_complete","files_synced":3}')).toMatchObject({
      ok: true,
      message: { type: 'sync_complete', files_synced: 3 },
    });
    expect(parseServerControl('{"type":"sync_complete","files_synced":-1}')).toMatchObject({ ok: false });
    expect(ClientControlMessageSchema.safeParse({ type: 'ping' }).success).toBe(true);
    expect(ServerControlMessageSchema.safeParse({ type: 'saved', doc: 'workspace:w' }).success).toBe(true);
  });
});

function step1(doc: Y.Doc): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint(e, 0);
  encoding.writeVarUint8Array(e, Y.encodeStateVector(doc));
  return encoding.toUint8Array(e);
}

describe('2. server-side document session logic', () => {
  test('SyncStep1 -> [SyncStep2, our SyncStep1]; changes broadcast and persisted only when the doc changed', () => {
    const server = new Y.Doc();
    server.getText('body').insert(0, 'server text');
    const h = new DocSyncHandler(server);
    const client = new Y.Doc();
    const r = h.handle({ id: 'c1', role: 'editor' }, step1(client));
    expect(r.replies.map((p) => decodeMessages(p)[0].type)).toEqual(['syncStep2', 'syncStep1']);
    expect(r.broadcast).toBeUndefined();
    expect(r.persist).toBeUndefined();
    const m = decodeMessages(r.replies[0])[0] as { update: Uint8Array };
    Y.applyUpdate(client, m.update);
    expect(client.getText('body').toString()).toBe('server text');

    let u: Uint8Array = new Uint8Array();
    client.once('update', (x: Uint8Array) => (u = x));
    client.getText('body').insert(0, '> ');
    const change = h.handle({ id: 'c1', role: 'editor' }, encodeMessages([{ type: 'update', update: u }]));
    expect(change.replies).toEqual([]);
    expect(change.persist).toBeDefined();
    expect(decodeMessages(change.broadcast as Uint8Array).map((x) => x.type)).toEqual(['update']);
    expect(server.getText('body').toString()).toBe('> server text');
    // the same update again changes nothing
    const again = h.handle({ id: 'c1', role: 'editor' }, encodeMessages([{ type: 'syncStep2', update: u }]));
    expect(again.broadcast).toBeUndefined();
    expect(again.persist).toBeUndefined();
  });

  test('viewer: changing update refused (doc untouched), empty SyncStep2 ignored silently', () => {
    const server = new Y.Doc();
    const h = new DocSyncHandler(server);
    const viewer = new Y.Doc();
    const empty = h.handle(
      { id: 'v', role: 'viewer' },
      encodeMessages([
        { type: 'syncStep2', update: Y.encodeStateAsUpdate(viewer, Y.encodeStateVector(server)) },
      ]),
    );
    expect(empty.readOnlyViolation).toBe(false);
    viewer.getText('body').insert(0, 'nope');
    const r = h.handle(
      { id: 'v', role: 'viewer' },
      encodeMessages([{ type: 'update', update: Y.encodeStateAsUpdate(viewer) }]),
    );
    expect(r.readOnlyViolation).toBe(true);
    expect(r.persist).toBeUndefined();
    expect(r.broadcast).toBeUndefined();
    expect(server.getText('body').toString()).toBe('');
  });

  test('a malformed payload is a ProtocolError and leaves the document untouched', () => {
    const server = new Y.Doc();
    server.getText('body').insert(0, 'x');
    const before = Y.encodeStateAsUpdate(server);
    const h = new DocSyncHandler(server);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.boolean(), (bytes, viewer) => {
        try {
          h.handle(
            { id: 'f', role: viewer ? 'viewer' : 'editor' },
            encodeMessages([{ type: 'update', update: bytes }]),
          );
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
        }
      }),
      { numRuns: 1000 },
    );
    expect(server.getText('body').toString()).toBe('x');
    expect(Y.encodeStateAsUpdate(server).length).toBeGreaterThanOrEqual(before.length);
  });
});
