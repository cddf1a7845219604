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
    b.applyUpdate(a.encodeState());
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
    d.applyUpdate(remote.encodeState());
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
