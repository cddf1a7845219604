/**
 * Updates that cannot apply as sent (docs/limits.md, "Updates that cannot apply"): Yjs pending
 * state is bounded per document; while a doc holds any, results say `pending` (no ack); an update
 * adding pending state beyond the bound is refused with `missing_dependencies` (4400) and the
 * pending state is dropped, so a flood of far-future updates costs O(bound), not O(flood²).
 */
import * as Y from 'yjs';
import { encodeMessage } from '@diaryx-sync/protocol';
import { DocSyncHandler, type ConnectionDescriptor, type PendingLimits } from '@diaryx-sync/protocol/server';

const editor: ConnectionDescriptor = { id: 'e1', role: 'editor' };
const limits: PendingLimits = { maxBytes: 4096, maxUpdates: 8, maxAgeMs: 1000 };

/** An update of `clientID` whose structs start at `clock` (a gap before it when clock > 0). */
function updateAtClock(clientID: number, clock: number, text = 'x'): Uint8Array {
  const src = new Y.Doc();
  src.clientID = clientID;
  const t = src.getText('t');
  if (clock > 0) t.insert(0, 'a'.repeat(clock));
  const sv = Y.encodeStateVector(src);
  t.insert(t.length, text);
  return Y.encodeStateAsUpdate(src, sv);
}

/** Two consecutive updates of one client: [first, second]; second depends on first. */
function twoInOrder(clientID: number): [Uint8Array, Uint8Array] {
  const src = new Y.Doc();
  src.clientID = clientID;
  const out: Uint8Array[] = [];
  src.on('update', (u: Uint8Array) => out.push(u));
  src.getText('t').insert(0, 'a');
  src.getText('t').insert(1, 'b');
  return [out[0]!, out[1]!];
}

const msg = (update: Uint8Array) => encodeMessage({ type: 'update', update });

describe('Yjs pending state is bounded per document', () => {
  it('a reordered update waits unacknowledged, then integrates and clears the episode', () => {
    const handler = new DocSyncHandler(new Y.Doc(), { pendingLimits: limits });
    const [first, second] = twoInOrder(3);
    const early = handler.handle(editor, msg(second));
    expect(early.error).toBeUndefined();
    expect(early.pending).toBe(true);
    expect(early.persist).toBeUndefined();
    const late = handler.handle(editor, msg(first));
    expect(late.pending).toBe(false);
    expect(handler.doc.getText('t').toString()).toBe('ab');
    // the persisted change carries both (nothing acknowledged is lost)
    const check = new Y.Doc();
    Y.applyUpdate(check, late.persist!);
    expect(check.getText('t').toString()).toBe('ab');
  });

  it('a flood of far-future updates is refused after maxUpdates additions and the pending state dropped', () => {
    const handler = new DocSyncHandler(new Y.Doc(), { pendingLimits: limits });
    let refusedAt = -1;
    for (let i = 0; i < 50; i++) {
      const res = handler.handle(editor, msg(updateAtClock(1000 + i, 1_000_000)));
      if (res.error) {
        expect(res.error.kind).toBe('missing_dependencies');
        expect(res.error.closeCode).toBe(4400);
        expect(res.droppedPending).toBeDefined();
        refusedAt = i;
        break;
      }
      expect(res.pending).toBe(true);
    }
    expect(refusedAt).toBe(limits.maxUpdates);
    expect(handler.doc.store.pendingStructs).toBeNull();
    expect(handler.doc.store.pendingDs).toBeNull();
  });

  it('a known writer whose burst overtook one frame is left unacknowledged (re-sent), never refused', () => {
    const handler = new DocSyncHandler(new Y.Doc(), { pendingLimits: limits });
    const src = new Y.Doc();
    src.clientID = 42;
    const updates: Uint8Array[] = [];
    src.on('update', (u: Uint8Array) => updates.push(u));
    for (let i = 0; i < 30; i++) src.getText('t').insert(src.getText('t').length, `${i % 10}`);
    expect(handler.handle(editor, msg(updates[0]!)).pending).toBe(false); // the writer is known now
    // frame 1 is late (re-sent after a shard move); frames 2..29 arrive first
    const early = updates.slice(2).map((u) => handler.handle(editor, msg(u)));
    expect(early.every((r) => r.error === undefined && r.pending)).toBe(true);
    expect(early.some((r) => r.droppedPending !== undefined)).toBe(true); // over maxUpdates: shed
    // the late frame arrives, then the gateway re-sends the unacknowledged ones: all integrate
    expect(handler.handle(editor, msg(updates[1]!)).error).toBeUndefined();
    // (a frame is acknowledged only once the doc holds no pending state: it may take two rounds)
    let rounds = 0;
    for (let unacked = updates.slice(2); unacked.length > 0 && rounds < 3; rounds++) {
      const results = unacked.map((u) => ({ u, r: handler.handle(editor, msg(u)) }));
      expect(results.every(({ r }) => r.error === undefined)).toBe(true);
      unacked = results.filter(({ r }) => r.pending).map(({ u }) => u);
    }
    expect(rounds).toBeLessThanOrEqual(2);
    expect(handler.doc.store.pendingStructs).toBeNull();
    expect(handler.doc.getText('t').toString()).toBe(src.getText('t').toString());
  });

  it('one big pending update beyond maxBytes is refused at once', () => {
    const handler = new DocSyncHandler(new Y.Doc(), { pendingLimits: limits });
    const res = handler.handle(editor, msg(updateAtClock(7, 10, 'y'.repeat(10_000))));
    expect(res.error?.kind).toBe('missing_dependencies');
    expect(handler.doc.store.pendingStructs).toBeNull();
  });

  it('a delete set of unknown structs counts as pending state too', () => {
    const a = new Y.Doc();
    a.clientID = 5;
    a.getText('t').insert(0, 'abc');
    const sv = Y.encodeStateVector(a);
    a.getText('t').delete(0, 3);
    const deletesOnly = Y.encodeStateAsUpdate(a, sv);
    const handler = new DocSyncHandler(new Y.Doc(), { pendingLimits: limits });
    const res = handler.handle(editor, msg(deletesOnly));
    expect(res.pending).toBe(true);
    expect(handler.doc.store.pendingDs).not.toBeNull();
  });

  it('an episode older than maxAgeMs is dropped by the sweep', () => {
    let now = 0;
    const handler = new DocSyncHandler(new Y.Doc(), { pendingLimits: limits, now: () => now });
    expect(handler.handle(editor, msg(updateAtClock(9, 100))).pending).toBe(true);
    now = 500;
    expect(handler.dropStalePending()).toBeUndefined();
    now = 1500;
    expect(handler.dropStalePending()?.structBytes).toBeGreaterThan(0);
    expect(handler.doc.store.pendingStructs).toBeNull();
  });

  it('an unrelated update while another waits is applied (not counted as an addition)', () => {
    const handler = new DocSyncHandler(new Y.Doc(), { pendingLimits: { ...limits, maxUpdates: 1 } });
    expect(handler.handle(editor, msg(updateAtClock(11, 100))).pending).toBe(true);
    for (let i = 0; i < 5; i++) {
      const res = handler.handle(editor, msg(updateAtClock(200 + i, 0, 'z')));
      expect(res.error).toBeUndefined();
      expect(res.persist).toBeDefined();
    }
  });

  it('refuses a server-side update flood the same way', () => {
    const handler = new DocSyncHandler(new Y.Doc(), { pendingLimits: { ...limits, maxUpdates: 0 } });
    const res = handler.applyServerUpdate(updateAtClock(4, 42));
    expect(res.error?.kind).toBe('missing_dependencies');
    expect(handler.doc.store.pendingStructs).toBeNull();
  });
});
