import fc from 'fast-check';
import * as awarenessProtocol from 'y-protocols/awareness';
import * as Y from 'yjs';
import {
  decodeMessages,
  encodeMessage,
  encodeMessages,
  PERMISSION_DENIED_REPLY,
  ProtocolError,
  splitMessages,
} from '@diaryx-sync/protocol';
import { ConnectionDescriptor, DocSyncHandler, updateWouldChangeDoc } from '@diaryx-sync/protocol/server';
import { clientHandle, contentOf, REMOTE, step1Of } from './helpers/sim-client';
import { expectProtocolError } from './helpers/expect-protocol-error';

const editor = (id: string): ConnectionDescriptor => ({ id, role: 'editor' });
const viewer = (id: string): ConnectionDescriptor => ({ id, role: 'viewer' });

function docWith(text: string, clientID?: number): Y.Doc {
  const doc = new Y.Doc();
  if (clientID !== undefined) doc.clientID = clientID;
  doc.getText('t').insert(0, text);
  return doc;
}

function updateMessage(update: Uint8Array): Uint8Array {
  return encodeMessage({ type: 'update', update });
}

/** Full exchange between a client doc and the handler; returns what the server broadcast. */
function fullSync(handler: DocSyncHandler, conn: ConnectionDescriptor, doc: Y.Doc) {
  const first = handler.handle(conn, step1Of(doc));
  expect(first.replies).toHaveLength(2);
  const [step2, serverStep1] = first.replies as [Uint8Array, Uint8Array];
  expect(decodeMessages(step2)[0]?.type).toBe('syncStep2');
  expect(decodeMessages(serverStep1)[0]?.type).toBe('syncStep1');
  clientHandle(doc, step2);
  const answers = clientHandle(doc, serverStep1);
  expect(answers).toHaveLength(1);
  return handler.handle(conn, answers[0] as Uint8Array);
}

describe('DocSyncHandler: sync', () => {
  it('answers SyncStep1 with SyncStep2 (the diff) then its own SyncStep1', () => {
    const server = docWith('server text');
    const handler = new DocSyncHandler(server);
    const client = new Y.Doc();
    const result = handler.handle(editor('a'), step1Of(client));
    expect(result.readOnlyViolation).toBe(false);
    expect(result.broadcast).toBeUndefined();
    expect(result.persist).toBeUndefined();
    const [step2, step1] = result.replies.map((r) => decodeMessages(r));
    expect(step2).toEqual([
      { type: 'syncStep2', update: Y.encodeStateAsUpdate(server, Y.encodeStateVector(client)) },
    ]);
    expect(step1).toEqual([{ type: 'syncStep1', stateVector: Y.encodeStateVector(server) }]);
  });

  it('the answer to an empty state vector is computed once per document state, and follows every change', () => {
    const server = docWith('v1');
    const handler = new DocSyncHandler(server);
    const join = () => {
      const client = new Y.Doc();
      for (const reply of handler.handle(editor('j'), step1Of(client)).replies) clientHandle(client, reply);
      return client.getText('t').toString();
    };
    const first = handler.handle(editor('a'), step1Of(new Y.Doc())).replies;
    expect(handler.handle(editor('b'), step1Of(new Y.Doc())).replies[0]).toBe(first[0]); // reused
    expect(join()).toBe('v1');
    const writer = new Y.Doc();
    Y.applyUpdate(writer, Y.encodeStateAsUpdate(server));
    const sv = Y.encodeStateVector(writer);
    writer.getText('t').insert(2, ' and v2');
    handler.handle(editor('w'), updateMessage(Y.encodeStateAsUpdate(writer, sv)));
    expect(join()).toBe('v1 and v2');
    // a client with some state still gets its own diff
    const partial = docWith('', 99);
    Y.applyUpdate(partial, Y.encodeStateAsUpdate(server));
    const [step2] = handler.handle(editor('p'), step1Of(partial)).replies.map((r) => decodeMessages(r));
    expect(step2).toEqual([
      { type: 'syncStep2', update: Y.encodeStateAsUpdate(server, Y.encodeStateVector(partial)) },
    ]);
  });

  it('two clients converge through the handler; changes are broadcast and persisted once', () => {
    const server = new Y.Doc();
    const handler = new DocSyncHandler(server);
    const a = docWith('hello ', 1);
    const b = docWith('world', 2);
    const fromA = fullSync(handler, editor('a'), a);
    expect(fromA.persist).toBeDefined();
    expect(decodeMessages(fromA.broadcast as Uint8Array).map((m) => m.type)).toEqual(['update']);
    const fromB = fullSync(handler, editor('b'), b);
    // A receives B's change through the broadcast.
    clientHandle(a, fromB.broadcast as Uint8Array);
    expect(contentOf(a)).toEqual(contentOf(server));
    expect(contentOf(b)).toEqual(contentOf(server));
    expect(server.getText('t').toString()).toHaveLength('hello world'.length);

    // Persisted updates rebuild the server document exactly.
    const rebuilt = new Y.Doc();
    Y.applyUpdate(rebuilt, fromA.persist as Uint8Array);
    Y.applyUpdate(rebuilt, fromB.persist as Uint8Array);
    expect(contentOf(rebuilt)).toEqual(contentOf(server));

    // A live edit on A reaches B.
    let live: Uint8Array | undefined;
    a.on('update', (u: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE) live = u;
    });
    a.getMap('m').set('k', 1);
    const result = handler.handle(editor('a'), updateMessage(live as Uint8Array));
    clientHandle(b, result.broadcast as Uint8Array);
    expect(b.getMap('m').get('k')).toBe(1);
  });

  it('an update that changes nothing is neither broadcast nor persisted', () => {
    const server = docWith('x');
    const handler = new DocSyncHandler(server);
    const result = handler.handle(editor('a'), updateMessage(Y.encodeStateAsUpdate(server)));
    expect(result).toEqual({ replies: [], readOnlyViolation: false, sawSyncStep1: false, pending: false });
    const empty = handler.handle(
      editor('a'),
      encodeMessage({ type: 'syncStep2', update: Y.encodeStateAsUpdate(new Y.Doc()) }),
    );
    expect(empty).toEqual({ replies: [], readOnlyViolation: false, sawSyncStep1: false, pending: false });
  });

  it('merges several changing messages of one payload into one broadcast and one persist', () => {
    const server = new Y.Doc();
    const handler = new DocSyncHandler(server);
    const c = new Y.Doc();
    const updates: Uint8Array[] = [];
    c.on('update', (u: Uint8Array) => updates.push(u));
    c.getText('t').insert(0, 'ab');
    c.getText('t').insert(2, 'cd');
    const result = handler.handle(
      editor('c'),
      encodeMessages(updates.map((update) => ({ type: 'update' as const, update }))),
    );
    expect(server.getText('t').toString()).toBe('abcd');
    const messages = decodeMessages(result.broadcast as Uint8Array);
    expect(messages.map((m) => m.type)).toEqual(['update']);
    const check = new Y.Doc();
    Y.applyUpdate(check, result.persist as Uint8Array);
    expect(check.getText('t').toString()).toBe('abcd');
  });

  it('out-of-order updates wait as pending and are persisted once complete', () => {
    const server = new Y.Doc();
    const handler = new DocSyncHandler(server);
    const c = new Y.Doc();
    const updates: Uint8Array[] = [];
    c.on('update', (u: Uint8Array) => updates.push(u));
    c.getText('t').insert(0, 'a');
    c.getText('t').insert(1, 'b');
    const second = handler.handle(editor('c'), updateMessage(updates[1] as Uint8Array));
    expect(second.persist).toBeUndefined();
    expect(second.broadcast).toBeUndefined();
    const first = handler.handle(editor('c'), updateMessage(updates[0] as Uint8Array));
    const check = new Y.Doc();
    Y.applyUpdate(check, first.persist as Uint8Array);
    expect(check.getText('t').toString()).toBe('ab');
  });

  it('applyServerUpdate changes the doc as a forward update', () => {
    const server = docWith('a');
    const handler = new DocSyncHandler(server);
    const other = new Y.Doc();
    Y.applyUpdate(other, Y.encodeStateAsUpdate(server));
    other.getText('t').insert(1, 'b');
    const result = handler.applyServerUpdate(Y.encodeStateAsUpdate(other, Y.encodeStateVector(server)));
    expect(server.getText('t').toString()).toBe('ab');
    expect(decodeMessages(result.broadcast as Uint8Array)[0]?.type).toBe('update');
    expect(handler.applyServerUpdate(Y.encodeStateAsUpdate(server))).toEqual({ pending: false });
    expectProtocolError(() => handler.applyServerUpdate(new Uint8Array([1, 2, 3])), 'bad_update');
  });
});

describe('DocSyncHandler: viewer rule', () => {
  it('a viewer can sync: its usual (non-changing) SyncStep2 is ignored silently', () => {
    const server = docWith('shared');
    server.getText('t').delete(0, 2); // gives the doc a delete set
    const handler = new DocSyncHandler(server);
    const v = new Y.Doc();
    const result = fullSync(handler, viewer('v'), v);
    expect(result).toEqual({ replies: [], readOnlyViolation: false, sawSyncStep1: false, pending: false });
    expect(contentOf(v)).toEqual(contentOf(server));
    // a second exchange, now with v holding the full delete set, is still harmless
    expect(fullSync(handler, viewer('v'), v)).toEqual({
      replies: [],
      readOnlyViolation: false,
      sawSyncStep1: false,
      pending: false,
    });
  });

  it('a viewer update that would change the doc is not applied and flagged', () => {
    const server = docWith('shared');
    const handler = new DocSyncHandler(server);
    const v = new Y.Doc();
    fullSync(handler, viewer('v'), v);
    const before = Y.encodeStateAsUpdate(server);
    let edit: Uint8Array | undefined;
    v.on('update', (u: Uint8Array) => (edit = u));
    v.getText('t').insert(0, 'X');
    const insert = handler.handle(viewer('v'), updateMessage(edit as Uint8Array));
    expect(insert).toEqual({ replies: [], readOnlyViolation: true, sawSyncStep1: false, pending: false });
    v.getText('t').delete(3, 1);
    const del = handler.handle(viewer('v'), updateMessage(edit as Uint8Array));
    expect(del.readOnlyViolation).toBe(true);
    expect(Y.encodeStateAsUpdate(server)).toEqual(before);
    expect(server.getText('t').toString()).toBe('shared');
  });

  it('on /yjs a violation is reported as data; the endpoint answers with the permission-denied Auth message', () => {
    const handler = new DocSyncHandler(new Y.Doc());
    const result = handler.handle(
      { id: 'v', role: 'viewer', dialect: 'yjs' },
      updateMessage(Y.encodeStateAsUpdate(docWith('x'))),
    );
    expect(result.readOnlyViolation).toBe(true);
    expect(result.replies).toEqual([]);
    expect(Array.from(PERMISSION_DENIED_REPLY)).toEqual([2, 0, 17, ...Buffer.from('permission denied')]);
  });

  it('admins write like editors', () => {
    const handler = new DocSyncHandler(new Y.Doc());
    const result = handler.handle(
      { id: 'x', role: 'admin' },
      updateMessage(Y.encodeStateAsUpdate(docWith('x'))),
    );
    expect(result.persist).toBeDefined();
    expect(handler.doc.getText('t').toString()).toBe('x');
  });

  it('property: updateWouldChangeDoc agrees with applying the update to a copy', () => {
    type Op = { who: 0 | 1; kind: 'ins' | 'del' | 'set'; pos: number; len: number; text: string };
    const op: fc.Arbitrary<Op> = fc.record({
      who: fc.constantFrom(0 as const, 1 as const),
      kind: fc.constantFrom('ins' as const, 'del' as const, 'set' as const),
      pos: fc.nat(20),
      len: fc.integer({ min: 1, max: 4 }),
      text: fc.string({ minLength: 1, maxLength: 3 }),
    });
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 25 }),
        fc.array(fc.boolean(), { maxLength: 25 }),
        (ops, syncs) => {
          const docs = [new Y.Doc(), new Y.Doc()] as const;
          docs[0].clientID = 1;
          docs[1].clientID = 2;
          ops.forEach((o, i) => {
            const d = docs[o.who];
            const t = d.getText('t');
            if (o.kind === 'ins') t.insert(Math.min(o.pos, t.length), o.text);
            else if (o.kind === 'del' && t.length > 0) t.delete(Math.min(o.pos, t.length - 1), o.len);
            else if (o.kind === 'set') d.getMap('m').set(o.text, o.pos);
            if (syncs[i]) Y.applyUpdate(docs[1 - o.who] as Y.Doc, Y.encodeStateAsUpdate(d));
          });
          const [server, client] = docs;
          const candidates = [
            Y.encodeStateAsUpdate(client),
            Y.encodeStateAsUpdate(client, Y.encodeStateVector(server)),
            Y.encodeStateAsUpdate(server),
          ];
          for (const update of candidates) {
            const copy = new Y.Doc();
            Y.applyUpdate(copy, Y.encodeStateAsUpdate(server));
            const before = Y.encodeStateAsUpdate(copy);
            let changed = false;
            copy.on('update', () => (changed = true));
            Y.applyUpdate(copy, update);
            changed = changed || copy.store.pendingStructs !== null || copy.store.pendingDs !== null;
            expect(updateWouldChangeDoc(server, update)).toBe(changed);
            expect(Y.encodeStateAsUpdate(server)).toEqual(Y.encodeStateAsUpdate(server));
            void before;
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('DocSyncHandler: awareness', () => {
  function awarenessOf(clientID: number, state: Record<string, unknown>) {
    const doc = new Y.Doc();
    doc.clientID = clientID;
    const awareness = new awarenessProtocol.Awareness(doc);
    awareness.setLocalState(state);
    return awareness;
  }

  it('relays awareness, remembers owners, and removes states when a connection leaves', () => {
    const handler = new DocSyncHandler(new Y.Doc());
    const alice = awarenessOf(11, { user: 'alice' });
    const bob = awarenessOf(22, { user: 'bob' });
    const observer = awarenessOf(33, { user: 'observer' });
    try {
      const fromAlice = awarenessProtocol.encodeAwarenessUpdate(alice, [11]);
      const result = handler.handle(
        editor('conn-a'),
        encodeMessage({ type: 'awareness', update: fromAlice }),
      );
      expect(result.replies).toEqual([]);
      expect(result.persist).toBeUndefined();
      expect(decodeMessages(result.broadcast as Uint8Array)).toEqual([
        { type: 'awareness', update: fromAlice },
      ]);
      // viewers may publish awareness too
      handler.handle(
        viewer('conn-b'),
        encodeMessage({ type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(bob, [22]) }),
      );
      expect(handler.awareness.clientIdsOf('conn-a')).toEqual([11]);
      expect(handler.awareness.size).toBe(2);

      // a new subscriber gets both states
      const snapshot = decodeMessages(handler.awarenessSnapshot() as Uint8Array)[0];
      if (snapshot?.type !== 'awareness') throw new Error('expected awareness');
      awarenessProtocol.applyAwarenessUpdate(observer, snapshot.update, 'server');
      expect(observer.getStates().get(11)).toEqual({ user: 'alice' });
      expect(observer.getStates().get(22)).toEqual({ user: 'bob' });

      // alice leaves: the others get her state removed
      const removal = handler.connectionLeft('conn-a');
      const removalMessage = decodeMessages(removal as Uint8Array)[0];
      if (removalMessage?.type !== 'awareness') throw new Error('expected awareness');
      awarenessProtocol.applyAwarenessUpdate(observer, removalMessage.update, 'server');
      expect(observer.getStates().has(11)).toBe(false);
      expect(observer.getStates().get(22)).toEqual({ user: 'bob' });
      expect(handler.connectionLeft('conn-a')).toBeUndefined();
      expect(handler.awareness.size).toBe(1);
    } finally {
      alice.destroy();
      bob.destroy();
      observer.destroy();
    }
  });

  it('a client that already removed its state leaves nothing to remove', () => {
    const handler = new DocSyncHandler(new Y.Doc());
    const alice = awarenessOf(11, { user: 'alice' });
    try {
      handler.handle(
        editor('a'),
        encodeMessage({ type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(alice, [11]) }),
      );
      alice.setLocalState(null);
      handler.handle(
        editor('a'),
        encodeMessage({ type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(alice, [11]) }),
      );
      expect(handler.awareness.size).toBe(0);
      expect(handler.connectionLeft('a')).toBeUndefined();
    } finally {
      alice.destroy();
    }
  });

  it('answers QueryAwareness on /yjs', () => {
    const handler = new DocSyncHandler(new Y.Doc());
    const yjs: ConnectionDescriptor = { id: 'y', role: 'editor', dialect: 'yjs' };
    expect(handler.handle(yjs, encodeMessage({ type: 'queryAwareness' })).replies).toEqual([]);
    const alice = awarenessOf(11, { user: 'alice' });
    try {
      handler.handle(
        editor('a'),
        encodeMessage({ type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(alice, [11]) }),
      );
    } finally {
      alice.destroy();
    }
    const replies = handler.handle(yjs, encodeMessage({ type: 'queryAwareness' })).replies;
    expect(replies.map((r) => decodeMessages(r, 'yjs')[0]?.type)).toEqual(['awareness']);
    expectProtocolError(
      () => handler.handle(editor('s'), encodeMessage({ type: 'queryAwareness' })),
      'unknown_message_type',
    );
  });

  it('a payload with a change and awareness broadcasts both; splitMessages separates them', () => {
    const handler = new DocSyncHandler(new Y.Doc());
    const alice = awarenessOf(11, { user: 'alice' });
    try {
      const payload = encodeMessages([
        { type: 'update', update: Y.encodeStateAsUpdate(docWith('x')) },
        { type: 'awareness', update: awarenessProtocol.encodeAwarenessUpdate(alice, [11]) },
      ]);
      const result = handler.handle(editor('a'), payload);
      const parts = splitMessages(result.broadcast as Uint8Array);
      expect(parts.map((p) => decodeMessages(p)[0]?.type)).toEqual(['update', 'awareness']);
    } finally {
      alice.destroy();
    }
  });
});

describe('DocSyncHandler: malformed input', () => {
  it.each([
    ['empty payload', []],
    ['unknown type', [7]],
    ['truncated update', [0, 2, 10, 1]],
    ['garbage update', [0, 2, 3, 0xff, 0xff, 0xff]],
    ['garbage state vector', [0, 0, 2, 5, 0x80]],
    ['bad awareness JSON', [1, 6, 1, 1, 1, 2, 0x7b, 0x7b]],
    ['awareness trailing bytes', [1, 2, 0, 0]],
  ])('%s → ProtocolError and the doc is untouched', (_name, bytes) => {
    const server = docWith('keep');
    const handler = new DocSyncHandler(server);
    const before = Y.encodeStateAsUpdate(server);
    expectProtocolError(() => handler.handle(editor('a'), new Uint8Array(bytes)));
    expect(Y.encodeStateAsUpdate(server)).toEqual(before);
  });

  it('a valid change followed by a malformed message applies nothing', () => {
    const server = docWith('keep');
    const handler = new DocSyncHandler(server);
    const good = updateMessage(Y.encodeStateAsUpdate(docWith('new')));
    const payload = new Uint8Array([...good, 0, 2, 2, 0xff, 0xff]);
    expectProtocolError(() => handler.handle(editor('a'), payload));
    expect(server.getText('t').toString()).toBe('keep');
  });

  it('an update that decodes but fails to integrate is refused before touching the doc', () => {
    // Found by mutating a real update: Y.decodeUpdate accepts it, Y.applyUpdate throws half-way.
    const hostile = new Uint8Array(
      Buffer.from(
        '0106070004010174026865810728038407040620776f7272642801016d0161017d0107010161012800070c0178017701790107010203',
        'hex',
      ),
    );
    expect(() => Y.decodeUpdate(hostile)).not.toThrow();
    const server = docWith('abc');
    const handler = new DocSyncHandler(server);
    const before = Y.encodeStateAsUpdate(server);
    expectProtocolError(() => handler.handle(editor('a'), updateMessage(hostile)), 'bad_update');
    expectProtocolError(() => handler.applyServerUpdate(hostile), 'bad_update');
    expect(Y.encodeStateAsUpdate(server)).toEqual(before);
  });

  it('an incremental update whose item refers to a later clock of its own client is refused untouched', () => {
    // A scratch (empty) doc would only park this update as pending; the real doc, which has the
    // client's earlier structs, would throw while integrating it.
    const author = docWith('abc', 7);
    const server = new Y.Doc();
    Y.applyUpdate(server, Y.encodeStateAsUpdate(author));
    const sv = Y.encodeStateVector(author);
    author.getText('t').insert(3, 'd');
    const legit = Y.encodeStateAsUpdate(author, sv);
    // [1 client][1 struct][client 7][clock 3][info][origin client 7][origin clock 2]...
    expect(Array.from(legit.subarray(0, 4))).toEqual([1, 1, 7, 3]);
    expect(Array.from(legit.subarray(5, 7))).toEqual([7, 2]);
    const hostile = Uint8Array.from(legit);
    hostile[6] = 40;
    expect(() => Y.decodeUpdate(hostile)).not.toThrow();
    const handler = new DocSyncHandler(server);
    const before = Y.encodeStateAsUpdate(server);
    expectProtocolError(() => handler.handle(editor('a'), updateMessage(hostile)), 'bad_update');
    expect(Y.encodeStateAsUpdate(server)).toEqual(before);
    expect(handler.handle(editor('a'), updateMessage(legit)).persist).toBeDefined();
    expect(server.getText('t').toString()).toBe('abcd');
  });

  it('if applying still fails half-way, what changed is returned for persisting, with the error', () => {
    const server = new Y.Doc();
    const handler = new DocSyncHandler(server);
    server.getText('t').observe(() => {
      throw new Error('observer failure');
    });
    const payload = encodeMessages([
      { type: 'update', update: Y.encodeStateAsUpdate(docWith('x', 5)) },
      { type: 'update', update: Y.encodeStateAsUpdate(docWith('never applied', 6)) },
    ]);
    const result = handler.handle(editor('a'), payload);
    expect(result.error).toBeInstanceOf(ProtocolError);
    expect(result.error?.closeCode).toBe(4400);
    const rebuilt = new Y.Doc();
    Y.applyUpdate(rebuilt, result.persist as Uint8Array);
    expect(rebuilt.getText('t').toString()).toBe('x');
    expect(decodeMessages(result.broadcast as Uint8Array).map((m) => m.type)).toEqual(['update']);
    expect(server.getText('t').toString()).toBe('x');
  });

  it('fuzz: random payloads and random update bytes only ever throw ProtocolError', () => {
    const server = docWith('fuzz target');
    const handler = new DocSyncHandler(server);
    const real = Y.encodeStateAsUpdate(docWith('something else', 77));
    const mutated = fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 0, max: 255 })).map(([i, b]) => {
      const copy = real.slice();
      copy[i] = b;
      return copy;
    });
    const arbUpdateBytes = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      mutated,
      fc.uint8Array({ maxLength: 40 }).map((u) => real.slice(0, u.length)),
    );
    const arbPayload = fc.oneof(
      fc.uint8Array({ maxLength: 60 }),
      arbUpdateBytes.map((u) => encodeMessage({ type: 'update', update: u })),
      arbUpdateBytes.map((u) => encodeMessage({ type: 'syncStep2', update: u })),
      arbUpdateBytes.map((u) => encodeMessage({ type: 'syncStep1', stateVector: u })),
      arbUpdateBytes.map((u) => encodeMessage({ type: 'awareness', update: u })),
    );
    fc.assert(
      fc.property(
        arbPayload,
        fc.constantFrom<ConnectionDescriptor>(editor('e'), viewer('v'), {
          id: 'y',
          role: 'editor',
          dialect: 'yjs',
        }),
        (payload, conn) => {
          try {
            expect(handler.handle(conn, payload).error).toBeUndefined();
          } catch (error) {
            expect(error).toBeInstanceOf(ProtocolError);
          }
          // the document stays usable
          expect(() => Y.encodeStateAsUpdate(server)).not.toThrow();
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('DocSyncHandler: one exchange end to end', () => {
  it('SyncStep1 -> [SyncStep2, our SyncStep1]; changes broadcast and persisted only when the doc changed', () => {
    const server = new Y.Doc();
    server.getText('body').insert(0, 'server text');
    const h = new DocSyncHandler(server);
    const client = new Y.Doc();
    const r = h.handle(editor('c1'), step1Of(client));
    expect(r.replies.map((p) => decodeMessages(p)[0].type)).toEqual(['syncStep2', 'syncStep1']);
    expect(r.broadcast).toBeUndefined();
    expect(r.persist).toBeUndefined();
    const m = decodeMessages(r.replies[0])[0] as { update: Uint8Array };
    Y.applyUpdate(client, m.update);
    expect(client.getText('body').toString()).toBe('server text');

    let u: Uint8Array = new Uint8Array();
    client.once('update', (x: Uint8Array) => (u = x));
    client.getText('body').insert(0, '> ');
    const change = h.handle(editor('c1'), encodeMessages([{ type: 'update', update: u }]));
    expect(change.replies).toEqual([]);
    expect(change.persist).toBeDefined();
    expect(decodeMessages(change.broadcast as Uint8Array).map((x) => x.type)).toEqual(['update']);
    expect(server.getText('body').toString()).toBe('> server text');
    // the same update again changes nothing
    const again = h.handle(editor('c1'), encodeMessages([{ type: 'syncStep2', update: u }]));
    expect(again.broadcast).toBeUndefined();
    expect(again.persist).toBeUndefined();
  });

  it('viewer: changing update refused (doc untouched), empty SyncStep2 ignored silently', () => {
    const server = new Y.Doc();
    const h = new DocSyncHandler(server);
    const reader = new Y.Doc();
    const empty = h.handle(
      viewer('v'),
      encodeMessages([
        { type: 'syncStep2', update: Y.encodeStateAsUpdate(reader, Y.encodeStateVector(server)) },
      ]),
    );
    expect(empty.readOnlyViolation).toBe(false);
    reader.getText('body').insert(0, 'nope');
    const r = h.handle(
      viewer('v'),
      encodeMessages([{ type: 'update', update: Y.encodeStateAsUpdate(reader) }]),
    );
    expect(r.readOnlyViolation).toBe(true);
    expect(r.persist).toBeUndefined();
    expect(r.broadcast).toBeUndefined();
    expect(server.getText('body').toString()).toBe('');
  });

  it('a malformed update from an editor or a viewer is a ProtocolError and leaves the document untouched', () => {
    const server = new Y.Doc();
    server.getText('body').insert(0, 'x');
    const before = Y.encodeStateAsUpdate(server);
    const h = new DocSyncHandler(server);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), fc.boolean(), (bytes, asViewer) => {
        try {
          h.handle(asViewer ? viewer('f') : editor('f'), encodeMessages([{ type: 'update', update: bytes }]));
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
