import {
  bodyDocId,
  InvalidPathError,
  isCanonicalPath,
  isTempFile,
  normalizePath,
  parseDocId,
  workspaceDocId,
} from '../src';

describe('normalizePath', () => {
  test.each([
    ['README.md', 'README.md'],
    ['./README.md', 'README.md'],
    ['/README.md', 'README.md'],
    ['.//README.md', 'README.md'],
    ['//a/b.md', 'a/b.md'],
    ['a\\b\\c.md', 'a/b/c.md'],
    ['.\\a.md', 'a.md'],
    ['journal/2024 notes.md', 'journal/2024 notes.md'],
    ['日本/笔记.md', '日本/笔记.md'],
  ])('%j -> %j', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
  });

  test.each([
    '',
    '/',
    './',
    'a//b.md',
    'a/',
    'a/./b.md',
    '../a.md',
    'a/../b.md',
    '.',
    '..',
    'a\u0000b',
    'a\nb',
    'a\tb',
    'x\u007f',
    'x\u0085',
  ])('rejects %j', (input) => {
    expect(() => normalizePath(input)).toThrow(InvalidPathError);
  });

  test('isCanonicalPath', () => {
    expect(isCanonicalPath('a/b.md')).toBe(true);
    expect(isCanonicalPath('./a/b.md')).toBe(false);
    expect(isCanonicalPath('a//b')).toBe(false);
  });

  test('temp files', () => {
    for (const p of ['a.tmp', 'b.bak', 'c.swap', 'd.md~', 'X.TMP']) expect(isTempFile(p)).toBe(true);
    for (const p of ['a.md', 'tmp.md', 'bak/x.md']) expect(isTempFile(p)).toBe(false);
  });
});

describe('doc ids', () => {
  test('build and parse', () => {
    expect(workspaceDocId('ws1')).toBe('workspace:ws1');
    expect(bodyDocId('ws1', './notes/a.md')).toBe('body:ws1/notes/a.md');
    expect(parseDocId('workspace:ws_7f3a')).toEqual({ kind: 'workspace', workspaceId: 'ws_7f3a' });
    expect(parseDocId('body:ws1/notes/a.md')).toEqual({
      kind: 'body',
      workspaceId: 'ws1',
      path: 'notes/a.md',
    });
  });
  test.each([
    'workspace:',
    'workspace:a b',
    'body:ws1',
    'body:ws1//a.md',
    'body:ws1/./a.md',
    'body:ws1/a/../b',
    'other:x',
    `body:ws/${'a'.repeat(260)}`,
  ])('rejects %j', (id) => {
    expect(parseDocId(id)).toBeNull();
  });
});
