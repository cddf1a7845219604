import fc from 'fast-check';
import * as Y from 'yjs';
import { applyTextDiff, mergeLocalText } from '../src/text-merge';

/** A splice of `text`: delete `del` characters at `at`, insert `ins` there. */
interface Splice {
  readonly at: number;
  readonly del: number;
  readonly ins: string;
}

const apply = (text: string, s: Splice): string => text.slice(0, s.at) + s.ins + text.slice(s.at + s.del);

/**
 * Strings without the separator. A text diff cannot tell which of two equal
 * neighbouring characters was inserted, so an insert that contains the
 * separator could legitimately be placed on its other side, in the other
 * peer's region (found by fast-check: inserting "|" left of "|").
 */
const noSeparator = (constraints: { minLength?: number; maxLength: number }): fc.Arbitrary<string> =>
  fc.string(constraints).map((s) => s.replaceAll('|', '_'));

const splice = (text: string, from: number, to: number): fc.Arbitrary<Splice> =>
  fc
    .tuple(fc.integer({ min: from, max: to }), fc.integer({ min: 0, max: 5 }), noSeparator({ maxLength: 6 }))
    .map(([at, del, ins]) => ({ at, del: Math.min(del, to - at), ins }));

function docWith(text: string): Y.Doc {
  const d = new Y.Doc();
  d.getText('body').insert(0, text);
  return d;
}

describe('mergeLocalText properties (fast-check)', () => {
  it('edits of separate regions are both kept, and the peers converge', () => {
    const arb = fc
      .tuple(noSeparator({ minLength: 2, maxLength: 40 }), noSeparator({ minLength: 1, maxLength: 40 }))
      .chain(([left, right]) => {
        const base = `${left}|${right}`;
        const mid = left.length;
        // The local edit stays left of the separator, the remote one right of it.
        return fc.tuple(fc.constant(base), splice(base, 0, mid), splice(base, mid + 1, base.length));
      });
    fc.assert(
      fc.property(arb, ([base, local, remote]) => {
        const live = docWith(base);
        const baseState = Y.encodeStateAsUpdate(live);
        const other = new Y.Doc();
        Y.applyUpdate(other, baseState);
        const otherText = other.getText('body');
        other.transact(() => applyTextDiff(otherText, base, apply(base, remote)));
        Y.applyUpdate(live, Y.encodeStateAsUpdate(other, Y.encodeStateVector(live)));
        const sent: Uint8Array[] = [];
        live.on('update', (u: Uint8Array, origin: unknown) => origin === 'local' && sent.push(u));
        mergeLocalText(live, 'body', baseState, apply(base, local), 'local');
        for (const u of sent) Y.applyUpdate(other, u);
        const expected = apply(apply(base, remote), local); // remote is right of local: indices hold
        expect(live.getText('body').toString()).toBe(expected);
        expect(otherText.toString()).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('without remote edits the result is exactly the local text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.string({ maxLength: 60 }), (base, local) => {
        const live = docWith(base);
        const r = mergeLocalText(live, 'body', Y.encodeStateAsUpdate(live), local, 'local');
        expect(live.getText('body').toString()).toBe(local);
        expect(r.changed).toBe(base !== local);
      }),
      { numRuns: 300 },
    );
  });
});
