import {
  bodyDocId,
  InvalidPathError,
  isCanonicalPath,
  isSafePath,
  isTempFile,
  MAX_PATH_BYTES,
  MAX_PATH_SEGMENT_BYTES,
  normalizePath,
  isDocId,
  parseDocId,
  safePath,
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
    expect(isDocId(id)).toBe(false);
  });
});

describe('safePath', () => {
  test.each([
    ['./notes/a.md', 'notes/a.md'],
    ['cafe\u0301.md', 'caf\u00e9.md'],
    ['CONSOLE.md', 'CONSOLE.md'],
    ['com10.md', 'com10.md'],
    ['lpt/a.md', 'lpt/a.md'],
    ['n'.repeat(MAX_PATH_BYTES), 'n'.repeat(MAX_PATH_BYTES)],
    [`${'é'.repeat(91)}.md`, `${'é'.repeat(91)}.md`],
  ])('accepts %j as %j', (input, expected) => {
    expect(safePath(input)).toBe(expected);
  });

  test.each([
    'a/../b.md',
    'bad\u0000.md',
    'report\u202Edm.md',
    'x\u202A.md',
    'x\u2069.md',
    'x\u200E.md',
    'x\u061C.md',
    'CON',
    'con.md',
    'Prn.tar.gz',
    'notes/AUX .md',
    'nul/a.md',
    'COM9.md',
    'lpt1',
    'n'.repeat(MAX_PATH_SEGMENT_BYTES + 1),
    `${'é'.repeat(92)}.md`,
    Array.from({ length: 10 }, () => 'd'.repeat(18)).join('/') + '/x.md',
  ])('refuses %j', (input) => {
    expect(() => safePath(input)).toThrow(InvalidPathError);
  });

  it('limits paths so that every body doc id fits in 255 bytes', () => {
    const longest = `${'d'.repeat(100)}/${'f'.repeat(MAX_PATH_BYTES - 101)}`;
    expect(safePath(longest)).toBe(longest);
    expect(Buffer.byteLength(bodyDocId('w'.repeat(64), longest))).toBeLessThanOrEqual(255);
    expect(() => safePath(`${longest}x`)).toThrow(InvalidPathError);
  });

  it('names a name over 255 bytes as such, and a path over 185 bytes as such', () => {
    expect(() => safePath('n'.repeat(MAX_PATH_SEGMENT_BYTES + 1))).toThrow(
      `a name is longer than ${MAX_PATH_SEGMENT_BYTES} UTF-8 bytes`,
    );
    expect(() => safePath('n'.repeat(MAX_PATH_SEGMENT_BYTES))).toThrow(
      `longer than ${MAX_PATH_BYTES} UTF-8 bytes`,
    );
  });

  it('isSafePath is true only for the safe canonical spelling', () => {
    expect(isSafePath('caf\u00e9.md')).toBe(true);
    expect(isSafePath('cafe\u0301.md')).toBe(false);
    expect(isSafePath('./a.md')).toBe(false);
    expect(isSafePath('CON.md')).toBe(false);
  });
});
