import { BadPayloadError, DocSync } from '@diaryx-sync/doc-service';
import { decodeMessages, encodeMessage } from '@diaryx-sync/protocol';
import fc from 'fast-check';
import * as Y from 'yjs';

const editor = { id: 'g|e', role: 'editor' as const };
const viewer = { id: 'g|v', role: 'viewer' as const };

function edit(fn: (d: Y.Doc) => void, base?: Y.Doc): Uint8Array {
  const d = base ?? new Y.Doc();
  const out: Uint8Array[] = [];
  d.on('update', (u: Uint8Array) => out.push(u));
  fn(d);
  return Y.mergeUpdates(out);
}

describe('DocSync (server-side sync of one doc)', () => {
  it('broadcasts and persists only effective changes', () => {
    const s = new DocSync(new Y.Doc());
    const u = edit((d) => d.getText('body').insert(0, 'abc'));
    const r1 = s.handle(editor, encodeMessage({ type: 'update', update: u }));
    expect(r1.persist).toHaveLength(1);
    expect(r1.broadcast).toHaveLength(1);
    expect(decodeMessages(r1.broadcast[0]!)[0]!.type).toBe('update');
    const r2 = s.handle(editor, encodeMessage({ type: 'syncStep2', update: u }));
    expect(r2.persist).toEqual([]);
    expect(r2.broadcast).toEqual([]);
  });

  it('handles several messages in one payload in order', () => {
    const s = new DocSync(new Y.Doc());
    const u = edit((d) => d.getText('body').insert(0, 'x'));
    const payload = new Uint8Array([
      ...encodeMessage({ type: 'update', update: u }),
      ...encodeMessage({ type: 'syncStep1', stateVector: Y.encodeStateVector(new Y.Doc()) }),
    ]);
    const r = s.handle(editor, payload);
    expect(r.persist).toHaveLength(1);
    expect(r.sawSyncStep1).toBe(true);
    const s2 = decodeMessages(r.replies[0]!)[0] as { type: string; update: Uint8Array };
    const d = new Y.Doc();
    Y.applyUpdate(d, s2.update);
    expect(d.getText('body').toString()).toBe('x'); // the step-2 answer already includes the update
  });

  it('refuses viewer changes, including pure deletions, and ignores no-op viewer updates', () => {
    const base = new Y.Doc();
    const s = new DocSync(new Y.Doc());
    const ins = edit((d) => d.getText('body').insert(0, 'hello'), base);
    s.handle(editor, encodeMessage({ type: 'update', update: ins }));
    const del = edit((d) => d.getText('body').delete(0, 2), base);
    const r = s.handle(viewer, encodeMessage({ type: 'update', update: del }));
    expect(r.readOnlyViolation).toBe(true);
    expect(s.doc.getText('body').toString()).toBe('hello');
    // re-sending known content is not a violation
    expect(s.handle(viewer, encodeMessage({ type: 'syncStep2', update: ins })).readOnlyViolation).toBe(false);
    expect(
      s.handle(viewer, encodeMessage({ type: 'syncStep2', update: Y.encodeStateAsUpdate(new Y.Doc()) }))
        .readOnlyViolation,
    ).toBe(false);
  });

  it('turns any malformed input into BadPayloadError and never corrupts the doc', () => {
    const s = new DocSync(new Y.Doc());
    s.handle(
      editor,
      encodeMessage({ type: 'update', update: edit((d) => d.getText('body').insert(0, 'keep')) }),
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 64 }),
        fc.constantFrom(0, 1, 2, 3, 4),
        (junk, kind) => {
          const payload =
            kind === 0
              ? junk
              : kind === 1
                ? encodeMessage({ type: 'update', update: junk })
                : kind === 2
                  ? encodeMessage({ type: 'syncStep1', stateVector: junk })
                  : kind === 3
                    ? encodeMessage({ type: 'awareness', update: junk })
                    : encodeMessage({ type: 'syncStep2', update: junk });
          try {
            s.handle(editor, payload);
          } catch (err) {
            expect(err).toBeInstanceOf(BadPayloadError);
          }
          expect(s.doc.getText('body').toString()).toContain('keep');
        },
      ),
      { numRuns: 1500 },
    );
  });
});
