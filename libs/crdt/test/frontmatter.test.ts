import { execFileSync } from 'node:child_process';
import {
  createFileMetadata,
  formatUpdated,
  FrontmatterError,
  frontmatterToMetadata,
  metadataToFrontmatter,
  parseFileMetadataJson,
  parseUpdated,
  serializeFileMetadata,
  splitFrontmatter,
  toFileMetadata,
  type FileMetadata,
} from '../src';

describe('FileMetadata JSON', () => {
  test('snake_case keys, null for absent values', () => {
    const json = serializeFileMetadata(createFileMetadata({ filename: 'a.md', modified_at: 5 }));
    expect(JSON.parse(json)).toEqual({
      filename: 'a.md',
      title: null,
      part_of: null,
      contents: null,
      attachments: [],
      deleted: false,
      audience: null,
      description: null,
      extra: {},
      modified_at: 5,
    });
  });
  test('tolerant parse of foreign JSON', () => {
    const m = parseFileMetadataJson(
      '{"title":3,"contents":["a.md",4],"attachments":[{"path":"x.png","size":"12"}],"modified_at":"77"}',
      'f.md',
    );
    expect(m).toMatchObject({ filename: 'f.md', title: null, contents: ['a.md'], modified_at: 77 });
    expect(m?.attachments[0]).toEqual({
      path: 'x.png',
      source: 'local',
      hash: '',
      mime_type: '',
      size: 12,
      uploaded_at: null,
      deleted: false,
    });
    expect(parseFileMetadataJson('not json')).toBeNull();
    expect(toFileMetadata(null).filename).toBe('');
  });
});

describe('updated <-> modified_at', () => {
  test('reads numbers, numeric strings and RFC3339', () => {
    expect(parseUpdated(1700000000123)).toBe(1700000000123);
    expect(parseUpdated('1700000000123')).toBe(1700000000123);
    expect(parseUpdated('2024-01-02T03:04:05.006Z')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
    expect(parseUpdated('2024-01-02T03:04:05+02:00')).toBe(Date.UTC(2024, 0, 2, 1, 4, 5));
    expect(parseUpdated('yesterday')).toBeNull();
    expect(parseUpdated(undefined)).toBeNull();
  });
  test('writes RFC3339 with milliseconds and Z', () => {
    expect(formatUpdated(Date.UTC(2024, 0, 2, 3, 4, 5, 6))).toBe('2024-01-02T03:04:05.006Z');
    expect(formatUpdated(0)).toBe('1970-01-01T00:00:00.000Z');
  });
});

describe('frontmatterToMetadata', () => {
  test('maps known keys, canonicalizes links, keeps unknown keys in extra', () => {
    const m = frontmatterToMetadata(
      {
        title: 'Note',
        part_of: '../README.md',
        contents: ['[A](/notes/a.md)', '[B](<notes/b c.md>)', 'Folder/file.md', './x.md'],
        audience: ['public'],
        description: 'desc',
        attachments: ['[img.png](/notes/img.png)'],
        updated: '2024-01-02T03:04:05.006Z',
        tags: ['x', 'y'],
        author: { name: 'me' },
      },
      { path: 'notes/index.md' },
    );
    expect(m).toEqual({
      filename: 'index.md',
      title: 'Note',
      part_of: 'README.md',
      contents: ['notes/a.md', 'notes/b c.md', 'Folder/file.md', 'notes/x.md'],
      attachments: [
        {
          path: 'notes/img.png',
          source: 'local',
          hash: '',
          mime_type: '',
          size: 0,
          uploaded_at: null,
          deleted: false,
        },
      ],
      deleted: false,
      audience: ['public'],
      description: 'desc',
      extra: { tags: ['x', 'y'], author: { name: 'me' } },
      modified_at: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
    });
  });
  test('plain links prefer an existing file', () => {
    const known = new Set(['notes/Folder/file.md', 'Other/file.md']);
    expect(
      frontmatterToMetadata({ part_of: 'Folder/file.md' }, { path: 'notes/x.md', knownPaths: known }).part_of,
    ).toBe('notes/Folder/file.md');
    expect(
      frontmatterToMetadata({ part_of: 'Other/file.md' }, { path: 'notes/x.md', knownPaths: known }).part_of,
    ).toBe('Other/file.md');
  });
});

describe('splitFrontmatter', () => {
  test('splits frontmatter and body', () => {
    expect(splitFrontmatter('---\ntitle: A\n---\n\nbody\n')).toEqual({
      frontmatter: { title: 'A' },
      body: 'body\n',
    });
    expect(splitFrontmatter('---\r\ntitle: A\r\n---\r\n\r\nbody')).toEqual({
      frontmatter: { title: 'A' },
      body: 'body',
    });
    expect(splitFrontmatter('just body')).toEqual({ frontmatter: {}, body: 'just body' });
    expect(splitFrontmatter('---\ntitle: A\n---\n')).toEqual({ frontmatter: { title: 'A' }, body: '' });
  });
  test('invalid YAML is a FrontmatterError', () => {
    expect(() => splitFrontmatter('---\ntitle: [unclosed\n---\n\nx')).toThrow(FrontmatterError);
    expect(() => splitFrontmatter('---\n- a\n- b\n---\n\nx')).toThrow(FrontmatterError);
  });
});

describe('updated and unknown keys', () => {
  const meta = (init: Partial<FileMetadata> = {}): FileMetadata =>
    createFileMetadata({ modified_at: 1000, ...init });

  test('updated: number (ms), numeric string, RFC3339 -> modified_at; written back RFC3339 with ms and Z', () => {
    const ms = Date.UTC(2024, 0, 2, 3, 4, 5, 6);
    expect(frontmatterToMetadata({ updated: ms }, { path: 'a.md' }).modified_at).toBe(ms);
    expect(frontmatterToMetadata({ updated: String(ms) }, { path: 'a.md' }).modified_at).toBe(ms);
    expect(frontmatterToMetadata({ updated: '2024-01-02T03:04:05.006Z' }, { path: 'a.md' }).modified_at).toBe(
      ms,
    );
    expect(
      frontmatterToMetadata({ updated: '2024-01-02T05:04:05.006+02:00' }, { path: 'a.md' }).modified_at,
    ).toBe(ms);
    expect(parseUpdated('2024-01-02T03:04:05Z')).toBe(Date.UTC(2024, 0, 2, 3, 4, 5));
    expect(formatUpdated(ms)).toBe('2024-01-02T03:04:05.006Z');
    expect(metadataToFrontmatter(meta({ modified_at: ms })).updated).toBe('2024-01-02T03:04:05.006Z');
    // whole seconds still carry the milliseconds
    expect(metadataToFrontmatter(meta({ modified_at: Date.UTC(2024, 0, 2) })).updated).toBe(
      '2024-01-02T00:00:00.000Z',
    );
  });

  test('unknown frontmatter keys round-trip through extra', () => {
    const fm = { title: 'T', mood: 'happy', tags: ['x', 'y'], nested: { a: 1 } };
    const m = frontmatterToMetadata(fm, { path: 'a.md' });
    expect(m.extra).toEqual({ mood: 'happy', tags: ['x', 'y'], nested: { a: 1 } });
    const back = metadataToFrontmatter(m);
    expect(back).toMatchObject({ title: 'T', mood: 'happy', tags: ['x', 'y'], nested: { a: 1 } });
  });
});

describe('updated without a time zone', () => {
  test('is read as UTC, independent of the machine time zone', () => {
    // A child process, because the time zone is fixed when the process starts.
    const script = `const { parseUpdated } = require(${JSON.stringify(require.resolve('../src/frontmatter.ts'))});
      console.log(JSON.stringify(['2024-01-02T03:04:05', '2024-01-02 03:04:05.5', '2024-01-02', '2024-01-02T03:04:05-05:00'].map(parseUpdated)));`;
    const out = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      env: { ...process.env, TZ: 'America/New_York' },
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').pop() as string)).toEqual([
      Date.UTC(2024, 0, 2, 3, 4, 5),
      Date.UTC(2024, 0, 2, 3, 4, 5, 500),
      Date.UTC(2024, 0, 2),
      Date.UTC(2024, 0, 2, 8, 4, 5),
    ]);
  }, 30_000);
});
