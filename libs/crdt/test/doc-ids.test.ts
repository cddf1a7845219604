import fc from 'fast-check';
import {
  bodyDocId,
  DocIdError,
  formatDocId,
  InvalidPathError,
  isCanonicalPath,
  isDocId,
  isSafePath,
  isValidWorkspaceId,
  MAX_PATH_BYTES,
  normalizePath,
  parseDocId,
  workspaceDocId,
} from '../src';

/** The error `fn` throws (`undefined` when it returns). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

/** Asserts that `fn` throws a DocIdError (of `kind`) and returns it. */
function expectDocIdError(fn: () => unknown, kind?: string): DocIdError {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(DocIdError);
  if (kind) expect((err as DocIdError).kind).toBe(kind);
  return err as DocIdError;
}

describe('normalizePath (the canonical path of a doc id)', () => {
  it.each([
    ['README.md', 'README.md'],
    ['./README.md', 'README.md'],
    ['/README.md', 'README.md'],
    ['.//README.md', 'README.md'],
    ['/./a/b.md', 'a/b.md'],
    ['journal\\2024.md', 'journal/2024.md'],
    ['\\journal\\2024.md', 'journal/2024.md'],
    ['.hidden/x.md', '.hidden/x.md'],
    ['a/..b/c...md', 'a/..b/c...md'],
    ['été/🌞 notes.md', 'été/🌞 notes.md'],
  ])('%j -> %j', (input, expected) => {
    expect(normalizePath(input)).toBe(expected);
    expect(isCanonicalPath(expected)).toBe(true);
  });

  it.each([
    [''],
    ['/'],
    ['./'],
    ['a//b.md'],
    ['a/'],
    ['a/./b.md'],
    ['.'],
    ['..'],
    ['../x.md'],
    ['a/../b.md'],
    ['a\u0000b.md'],
    ['a\nb.md'],
    ['a\u007fb.md'],
    ['a\u0085b.md'],
    ['a\\\\b.md'],
  ])('rejects %j', (input) => {
    expect(() => normalizePath(input)).toThrow(InvalidPathError);
    expectDocIdError(() => bodyDocId('ws', input), 'bad_path');
    expect(isCanonicalPath(input)).toBe(false);
  });
});

describe('doc ids', () => {
  it('builds and parses workspace doc ids', () => {
    expect(workspaceDocId('ws_7f3a')).toBe('workspace:ws_7f3a');
    expect(parseDocId('workspace:ws_7f3a')).toEqual({ kind: 'workspace', workspaceId: 'ws_7f3a' });
  });

  it('builds body doc ids from non-canonical paths and parses them back', () => {
    expect(bodyDocId('ws_7f3a', 'journal/2024.md')).toBe('body:ws_7f3a/journal/2024.md');
    expect(bodyDocId('ws_7f3a', './journal\\2024.md')).toBe('body:ws_7f3a/journal/2024.md');
    expect(parseDocId('body:ws_7f3a/journal/2024.md')).toEqual({
      kind: 'body',
      workspaceId: 'ws_7f3a',
      path: 'journal/2024.md',
    });
  });

  it('validates workspace ids', () => {
    expect(isValidWorkspaceId('a')).toBe(true);
    expect(isValidWorkspaceId('A-z_0'.padEnd(64, 'x'))).toBe(true);
    for (const bad of ['', 'a'.repeat(65), 'a b', 'a/b', 'ws:1', 'é', 'a.b']) {
      expect(isValidWorkspaceId(bad)).toBe(false);
      expectDocIdError(() => workspaceDocId(bad), 'bad_doc_id');
      expectDocIdError(() => parseDocId(`workspace:${bad}`), 'bad_doc_id');
      expectDocIdError(() => bodyDocId(bad, 'a.md'), 'bad_doc_id');
    }
  });

  it.each([
    ['body:ws/./a.md'],
    ['body:ws//a.md'],
    ['body:ws/\\a.md'],
    ['body:ws/a\\b.md'],
    ['body:ws/a/'],
    ['body:ws/'],
    ['body:ws'],
    ['body:ws/a/../b.md'],
    ['body:ws/a\u0000.md'],
    ['body:/a.md'],
    ['workspace:'],
    ['Workspace:ws'],
    ['body :ws/a.md'],
    ['doc:ws'],
    [''],
  ])('rejects wire doc id %j', (id) => {
    expectDocIdError(() => parseDocId(id), 'bad_doc_id');
    expect(isDocId(id)).toBe(false);
  });

  it('rejects doc ids over 255 UTF-8 bytes and never truncates', () => {
    // The longest workspace id (64) and the longest safe path (185 bytes) make 255 bytes.
    const ws = 'w'.repeat(64);
    const prefix = `body:${ws}/`;
    const okPath = `${'a'.repeat(100)}/${'a'.repeat(255 - prefix.length - 101)}`;
    expect(bodyDocId(ws, okPath)).toHaveLength(255);
    expect(parseDocId(prefix + okPath)).toEqual({ kind: 'body', workspaceId: ws, path: okPath });
    expectDocIdError(() => bodyDocId(ws, okPath + 'a'), 'doc_id_too_long');
    expectDocIdError(() => parseDocId(prefix + okPath + 'a'), 'doc_id_too_long');
    // multi-byte: 124 × 'é' (248 bytes) + prefix (8) = 256 bytes
    expectDocIdError(() => bodyDocId('ws', 'é'.repeat(124)), 'doc_id_too_long');
  });

  it('property: built ids parse back to the canonical path', () => {
    const segment = fc
      .string({ minLength: 1, maxLength: 12, unit: 'grapheme' })
      .filter((s) => !/[/\\\u0000-\u001f\u007f-\u009f]/.test(s) && s !== '.' && s !== '..')
      // Names entering over the wire must be safe (NFC, no bidi controls, no reserved names).
      .filter((s) => isSafePath(s));
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
        fc
          .array(segment, { minLength: 1, maxLength: 5 })
          .filter((segments) => Buffer.byteLength(segments.join('/')) <= MAX_PATH_BYTES),
        fc.constantFrom('', './', '/', './/'),
        (ws, segments, prefix) => {
          const path = segments.join('/');
          let id: string;
          try {
            id = bodyDocId(ws, prefix + path);
          } catch (error) {
            expect((error as DocIdError).kind).toBe('doc_id_too_long');
            return;
          }
          expect(parseDocId(id)).toEqual({ kind: 'body', workspaceId: ws, path });
          expect(formatDocId(parseDocId(id))).toBe(id);
        },
      ),
    );
  });

  it('fuzz: parseDocId on random strings only ever throws DocIdError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300, unit: 'binary' }),
          fc.string({ maxLength: 40 }).map((s) => `body:${s}`),
          fc.string({ maxLength: 40 }).map((s) => `workspace:${s}`),
          fc.string({ maxLength: 40 }).map((s) => `body:ws/${s}`),
        ),
        (id) => {
          try {
            const parsed = parseDocId(id);
            expect(formatDocId(parsed)).toBe(id);
          } catch (error) {
            expect(error).toBeInstanceOf(DocIdError);
            expect(isDocId(id)).toBe(false);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('doc ids: what is rejected, with the typed error', () => {
  it('builds and parses the documented examples', () => {
    expect(parseDocId(workspaceDocId('ws_7f3a'))).toEqual({ kind: 'workspace', workspaceId: 'ws_7f3a' });
    expect(parseDocId(bodyDocId('ws_7f3a', './journal/2024.md'))).toEqual({
      kind: 'body',
      workspaceId: 'ws_7f3a',
      path: 'journal/2024.md',
    });
    expect(bodyDocId('w', '/README.md')).toBe('body:w/README.md');
  });

  it('rejects over-long ids, bad workspace ids, bad paths and non-canonical paths', () => {
    const long = `body:w/${'a'.repeat(250)}.md`;
    expectDocIdError(() => parseDocId(long), 'doc_id_too_long');
    expectDocIdError(() => bodyDocId('w', `${'é'.repeat(130)}.md`), 'doc_id_too_long');
    for (const bad of ['a b', '', 'x'.repeat(65), 'ws/1', 'ws:1']) {
      expectDocIdError(() => workspaceDocId(bad), 'bad_doc_id');
      expectDocIdError(() => parseDocId(`workspace:${bad}`), 'bad_doc_id');
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
      expectDocIdError(() => parseDocId(`body:w/${bad}`), 'bad_doc_id');
      expect(expectDocIdError(() => bodyDocId('w', bad)).kind).toMatch(/^bad_/);
    }
    // non-canonical spellings are a protocol error on the wire
    for (const nc of ['./a.md', '/a.md', 'a\\b.md'])
      expectDocIdError(() => parseDocId(`body:w/${nc}`), 'bad_doc_id');
    expectDocIdError(() => parseDocId('doc:w'), 'bad_doc_id');
  });
});
