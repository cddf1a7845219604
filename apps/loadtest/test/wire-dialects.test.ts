import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { decodeFrame, decodeMessages } from '@diaryx-sync/protocol';
import * as Y from 'yjs';
import { containsMarker, markerText, scanMarkers } from '../src/load/markers';
import { Wire } from '../src/wire/wire';

const DOC = 'body:ws1/notes/a.md';

function anUpdate(text: string): Uint8Array {
  const doc = new Y.Doc();
  let update = new Uint8Array();
  doc.on('update', (u: Uint8Array) => (update = u));
  doc.getText('body').insert(0, text);
  return update;
}

describe('wire dialects', () => {
  it('sync2: frames with the doc id, readable by the protocol package', () => {
    const wire = new Wire({ protocol: 'sync2', base: 'ws://h:1', token: 'a b' });
    expect(wire.socketUrl(DOC)).toBe('ws://h:1/sync2?token=a%20b');
    const update = anUpdate('#7;');
    const frame = decodeFrame(wire.update(DOC, update));
    expect(frame.docId).toBe(DOC);
    expect(decodeMessages(frame.payload, 'sync2')).toEqual([{ type: 'update', update }]);
    const [step1] = wire.subscribe(DOC, new Uint8Array([0]));
    expect(decodeMessages(decodeFrame(step1).payload, 'sync2')[0]).toMatchObject({ type: 'syncStep1' });
    // And back: what the server sends decodes to the doc's messages.
    expect(wire.decode(wire.step2(DOC, update), 'ignored')).toEqual([
      { docId: DOC, kind: 'step2', data: update },
    ]);
    expect(wire.saveRequest(DOC)).toBe(JSON.stringify({ action: 'save', doc: DOC }));
  });

  it('yjs: one doc per socket in the URL, no prefix, no save barrier', () => {
    const wire = new Wire({ protocol: 'yjs', base: 'ws://h:1/yjs', token: 't' });
    expect(wire.socketUrl(DOC)).toBe(`ws://h:1/yjs/${encodeURIComponent(DOC)}?token=t`);
    const update = anUpdate('#8;');
    expect(wire.decode(wire.update(DOC, update), DOC)).toEqual([
      { docId: DOC, kind: 'update', data: update },
    ]);
    expect(wire.saveRequest(DOC)).toBeNull();
  });

  it('hocuspocus: doc-name prefix, an Auth token message before SyncStep1, SyncReply read as sync', () => {
    const wire = new Wire({ protocol: 'hocuspocus', base: 'ws://h:2', token: 'secret' });
    const [auth, step1] = wire.subscribe(DOC, new Uint8Array([0]));
    const d = decoding.createDecoder(auth);
    expect(decoding.readVarString(d)).toBe(DOC);
    expect(decoding.readVarUint(d)).toBe(2); // Auth
    expect(decoding.readVarUint(d)).toBe(0); // Token
    expect(decoding.readVarString(d)).toBe('secret');
    expect(wire.decode(step1, '')).toEqual([{ docId: DOC, kind: 'step1', data: new Uint8Array([0]) }]);
    // The server answers a SyncStep1 with SyncReply (4) + SyncStep2.
    const update = anUpdate('#9;');
    const e = encoding.createEncoder();
    encoding.writeVarString(e, DOC);
    encoding.writeVarUint(e, 4);
    encoding.writeVarUint(e, 1);
    encoding.writeVarUint8Array(e, update);
    expect(wire.decode(encoding.toUint8Array(e), '')).toEqual([{ docId: DOC, kind: 'step2', data: update }]);
  });
});

describe('edit markers', () => {
  it('are found in Yjs updates and in a merged doc state without decoding', () => {
    const doc = new Y.Doc();
    const text = doc.getText('body');
    for (let i = 1; i <= 50; i++) text.insert(text.length, markerText(i));
    text.insert(0, markerText(1000));
    const found: number[] = [];
    scanMarkers(Y.encodeStateAsUpdate(doc), (id) => found.push(id));
    expect(found.sort((a, b) => a - b)).toEqual([...Array.from({ length: 50 }, (_, i) => i + 1), 1000]);
    expect(containsMarker(Y.encodeStateAsUpdate(doc), 50)).toBe(true);
    expect(containsMarker(Y.encodeStateAsUpdate(doc), 51)).toBe(false);
  });
});
