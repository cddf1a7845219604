import * as fc from 'fast-check';
import * as Y from 'yjs';
import { BodyDoc, computeSplice } from '../src';

function syncedPair(): [BodyDoc, BodyDoc] {
  const a = new BodyDoc('a.md');
  const b = new BodyDoc('a.md');
  a.onUpdate((u, info) => {
    if (info.local) b.applyUpdate(u);
  });
  return [a, b];
}

describe('setBody minimal diff', () => {
  const cases: [string, string, string][] = [
    ['ascii', 'hello world', 'hello brave world'],
    ['emoji replace', 'a😀b', 'a😃b'],
    ['emoji same high surrogate', 'x😀', 'x😁'],
    ['emoji insert before', '😀', '😃😀'],
    ['flags/ZWJ', '👨‍👩‍👧 family', '👨‍👩‍👦 family'],
    ['CJK', '日本語のテキスト', '日本語の新しいテキスト'],
    ['combining marks', 'cafe\u0301', 'cafe\u0300'],
    ['CRLF', 'line1\r\nline2\r\n', 'line1\nline2\r\n'],
    ['to empty', 'something', ''],
    ['from empty', '', 'new'],
  ];
  test.each(cases)('%s', (_name, before, after) => {
    const [a, b] = syncedPair();
    a.setBody(before);
    a.setBody(after);
    expect(a.getBody()).toBe(after);
    expect(b.getBody()).toBe(after);
    // no lone surrogate ever appears in the CRDT content
    expect(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(a.getBody())).toBe(
      false,
    );
  });

  test('splice never splits a surrogate pair and is minimal', () => {
    expect(computeSplice('x😀', 'x😁')).toEqual({ index: 1, deleteCount: 2, insert: '😁' });
    expect(computeSplice('😀y', '😁y')).toEqual({ index: 0, deleteCount: 2, insert: '😁' });
    expect(computeSplice('abcdef', 'abXdef')).toEqual({ index: 2, deleteCount: 1, insert: 'X' });
    expect(computeSplice('same', 'same')).toBeNull();
  });

  test('concurrent edits elsewhere survive setBody', () => {
    const a = new BodyDoc('a.md');
    a.setBody('first line\nsecond line\n');
    const b = new BodyDoc('a.md');
    b.applyUpdate(a.encodeStateAsUpdate());
    a.setBody('FIRST line\nsecond line\n');
    b.setBody('first line\nsecond line\nthird line\n');
    a.applyUpdate(b.encodeStateAsUpdate(a.getSyncState()));
    b.applyUpdate(a.encodeStateAsUpdate(b.getSyncState()));
    expect(a.getBody()).toBe('FIRST line\nsecond line\nthird line\n');
    expect(b.getBody()).toBe(a.getBody());
  });

  test('a single update of one delete + one insert', () => {
    const d = new BodyDoc('a.md');
    d.setBody('aaaa bbbb cccc');
    let updates = 0;
    d.onUpdate(() => updates++);
    d.setBody('aaaa XX cccc');
    expect(updates).toBe(1);
  });
});

describe('BodyDoc operations', () => {
  test('insertAt, deleteRange with clamping and validation', () => {
    const d = new BodyDoc('a.md');
    d.setBody('hello');
    d.insertAt(5, ' world');
    d.insertAt(100, '!');
    expect(d.getBody()).toBe('hello world!');
    d.deleteRange(0, 6);
    expect(d.getBody()).toBe('world!');
    d.deleteRange(3, 100);
    expect(d.getBody()).toBe('wor');
    expect(() => d.insertAt(-1, 'x')).toThrow(RangeError);
    expect(() => d.deleteRange(0.5, 1)).toThrow(RangeError);
  });

  test('frontmatter map', () => {
    const d = new BodyDoc('a.md');
    d.setFrontmatter('title', 'T');
    d.setFrontmatter('tags', ['a', 'b']);
    expect(d.getFrontmatter('title')).toBe('T');
    expect(d.getAllFrontmatter()).toEqual({ title: 'T', tags: ['a', 'b'] });
    d.removeFrontmatter('title');
    expect(d.getFrontmatter('title')).toBeUndefined();
    expect(d.doc.getMap('frontmatter').toJSON()).toEqual({ tags: ['a', 'b'] });
    expect(d.doc.getText('body')).toBe(d.body);
  });

  test('sync callback registers once, gets local updates only, uses the current name', () => {
    const d = new BodyDoc('old.md');
    const calls: string[] = [];
    expect(d.setSyncCallback((name) => calls.push(`1:${name}`))).toBe(true);
    expect(d.setSyncCallback((name) => calls.push(`2:${name}`))).toBe(false);
    d.setBody('x');
    const remote = new BodyDoc('old.md');
    remote.setBody('remote text');
    d.applyUpdate(remote.encodeStateAsUpdate());
    d.setName('new.md');
    d.insertAt(0, 'y');
    expect(calls).toEqual(['1:old.md', '1:new.md']);
  });

  test('fromUpdate restores state', () => {
    const d = new BodyDoc('a.md');
    d.setBody('persisted');
    const e = BodyDoc.fromUpdate('a.md', Y.encodeStateAsUpdate(d.doc));
    expect(e.getBody()).toBe('persisted');
    expect(BodyDoc.fromUpdate('b.md', null).getBody()).toBe('');
  });
});

describe('BodyDoc: edits, sync callback, constructors, bad input', () => {
  test('setBody emits one update with at most one delete and one insert', () => {
    const d = new BodyDoc('a.md');
    d.setBody('héllo 😀 wörld\r\n日本');
    const updates: Uint8Array[] = [];
    d.doc.on('update', (u: Uint8Array) => updates.push(u));
    d.setBody('héllo 😃 wörld\r\n日本語');
    expect(updates).toHaveLength(1);
    const other = new BodyDoc('a.md');
    other.applyUpdate(d.encodeStateAsUpdate());
    expect(other.getBody()).toBe('héllo 😃 wörld\r\n日本語');
  });

  test('sync callback: registered once, local updates only, never echoes remote ones', () => {
    const a = new BodyDoc('a.md');
    const b = new BodyDoc('a.md');
    const sent: Uint8Array[] = [];
    const second: Uint8Array[] = [];
    a.setSyncCallback((_name, u) => sent.push(u));
    a.setSyncCallback((_name, u) => second.push(u));
    a.setBody('local');
    expect(sent).toHaveLength(1);
    expect(second).toHaveLength(0);
    b.setBody('remote');
    a.applyUpdate(b.encodeStateAsUpdate());
    expect(sent).toHaveLength(1);
    a.insertAt(0, '>');
    a.deleteRange(0, 1);
    a.setFrontmatter('title', 'T');
    expect(a.getFrontmatter('title')).toBe('T');
    a.removeFrontmatter('title');
    expect(a.getFrontmatter('title')).toBeUndefined();
    expect(sent).toHaveLength(5);
  });

  test('BodyDoc without a name, or over an existing Y.Doc', () => {
    const d = new BodyDoc();
    d.setBody('x');
    expect(d.getBody()).toBe('x');
    expect(d.name).toBe('');
    const y = new Y.Doc();
    y.getText('body').insert(0, 'from ydoc');
    expect(new BodyDoc(y).getBody()).toBe('from ydoc');
  });

  test('setBody of a non-string is a TypeError and keeps the body', () => {
    const d = new BodyDoc('a.md');
    d.setBody('keep');
    expect(() => d.setBody(undefined as unknown as string)).toThrow(TypeError);
    expect(d.getBody()).toBe('keep');
  });
});

describe('setBody splice (property)', () => {
  const pieces = ['a', 'b', ' ', '\n', '\r\n', '😀', '😃', '👨‍👩‍👧', '日', '本', 'e\u0301', '\u0300', '𝕏'];
  const text = fc.array(fc.constantFrom(...pieces), { maxLength: 12 }).map((a) => a.join(''));
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

  test('one delete + one insert, never inside a surrogate pair, minimal up to pair boundaries', () => {
    fc.assert(
      fc.property(text, text, (before, after) => {
        const s = computeSplice(before, after);
        if (before === after) return s === null;
        if (!s) return false;
        const rebuilt = before.slice(0, s.index) + s.insert + before.slice(s.index + s.deleteCount);
        expect(rebuilt).toBe(after);
        for (const cut of [s.index, s.index + s.deleteCount]) {
          const hi = before.charCodeAt(cut - 1);
          expect(cut > 0 && cut < before.length && hi >= 0xd800 && hi <= 0xdbff).toBe(false);
        }
        expect(lone.test(s.insert)).toBe(false);
        // minimal: the kept prefix/suffix cannot grow by a whole code point
        const prefix = s.index;
        const suffix = before.length - s.index - s.deleteCount;
        const cpAt = (str: string, i: number): string => String.fromCodePoint(str.codePointAt(i) as number);
        if (prefix < Math.min(before.length, after.length) - suffix) {
          const c = cpAt(before, prefix);
          expect(
            after.startsWith(before.slice(0, prefix) + c) &&
              before.length - suffix >= prefix + c.length &&
              after.length - suffix >= prefix + c.length,
          ).toBe(false);
        }
        const d = new BodyDoc('p.md');
        d.setBody(before);
        const updates: Uint8Array[] = [];
        d.doc.on('update', (u: Uint8Array) => updates.push(u));
        d.setBody(after);
        expect(d.getBody()).toBe(after);
        expect(updates.length).toBe(1);
        return true;
      }),
      { numRuns: 2000 },
    );
  });
});
