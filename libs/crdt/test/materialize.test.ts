import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import {
  BodyDocManager,
  createFileMetadata,
  formatLink,
  materializeWorkspace,
  metadataToFrontmatter,
  parseLink,
  parseMarkdownFile,
  parseMarkdownFiles,
  WorkspaceCrdt,
  type FileMetadata,
} from '../src';

const meta = createFileMetadata;

describe('materializeWorkspace', () => {
  test('frontmatter layout, key order and links', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile(
      'README.md',
      meta({
        title: 'Home',
        contents: ['notes/a.md', 'notes/my note.md'],
        modified_at: Date.UTC(2024, 0, 1),
      }),
    );
    ws.setFile(
      'notes/a.md',
      meta({
        title: 'A',
        part_of: 'README.md',
        audience: ['public'],
        description: 'An entry',
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
          {
            path: 'notes/gone.png',
            source: 'local',
            hash: '',
            mime_type: '',
            size: 0,
            uploaded_at: null,
            deleted: true,
          },
        ],
        extra: { zeta: 1, alpha: 'x', _private: 'dropped' },
        modified_at: Date.UTC(2024, 0, 2, 3, 4, 5, 6),
      }),
    );
    ws.setFile(
      'notes/my note.md',
      meta({ part_of: 'README.md', contents: [], modified_at: Date.UTC(2024, 0, 3) }),
    );
    ws.setFile('gone.md', meta({ title: 'Gone', modified_at: 1 }));
    ws.deleteFile('gone.md');
    const files = materializeWorkspace(ws, new Map([['notes/a.md', '# A\n\nBody text.\n']]));
    expect(files.map((f) => f.path)).toEqual(['README.md', 'notes/a.md', 'notes/my note.md']);
    const a = files[1].content;
    expect(a).toBe(
      [
        '---',
        'title: A',
        'part_of: "[Home](/README.md)"',
        'audience:',
        '  - public',
        'description: An entry',
        'attachments:',
        '  - "[img.png](/notes/img.png)"',
        'updated: 2024-01-02T03:04:05.006Z',
        'alpha: x',
        'zeta: 1',
        '---',
        '',
        '# A',
        '',
        'Body text.',
        '',
      ].join('\n'),
    );
    const readme = parseYaml(files[0].content.split('---\n')[1]) as Record<string, unknown>;
    expect(Object.keys(readme)).toEqual(['title', 'contents', 'updated']);
    expect(readme.contents).toEqual(['[A](/notes/a.md)', '[my note](</notes/my note.md>)']);
    expect(files[2].content).toContain('contents: []');
  });

  test('body only when the YAML is empty', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('plain.md', meta({ modified_at: 0 }));
    ws.setFile('fence.md', meta({ modified_at: 0 }));
    const out = materializeWorkspace(ws, (p) =>
      p === 'plain.md' ? 'just text\n' : '---\nnot frontmatter\n',
    );
    expect(out.find((f) => f.path === 'plain.md')?.content).toBe('just text\n');
    const parsed = parseMarkdownFiles(out);
    expect(parsed.bodies.get('fence.md')).toBe('---\nnot frontmatter\n');
  });

  test('doc-id mode materializes derived paths and links', () => {
    const ws = new WorkspaceCrdt();
    const root = ws.createFile(meta({ filename: 'README.md', title: 'Root', modified_at: 1000 }));
    const folder = ws.createFile(
      meta({ filename: 'notes', title: 'Notes', part_of: root, modified_at: 1000 }),
    );
    const a = ws.createFile(meta({ filename: 'a.md', title: 'A', part_of: folder, modified_at: 1000 }));
    const out = materializeWorkspace(ws, new Map([[a, 'body of a']]));
    // README.md is an index file: its children live in its folder (the root), not below it.
    const fileA = out.find((f) => f.path === 'notes/a.md');
    expect(fileA?.content).toContain('part_of: "[Notes](/notes)"');
    expect(fileA?.content.endsWith('\n\nbody of a')).toBe(true);
  });
});

test('bodies from BodyDocs, a BodyDocManager or a function', () => {
  const ws = new WorkspaceCrdt();
  ws.setFile('a.md', meta({ modified_at: 0 }));
  const manager = new BodyDocManager();
  manager.getOrCreate('a.md').setBody('from manager');
  expect(materializeWorkspace(ws, manager)[0].content).toBe('from manager');
  expect(materializeWorkspace(ws, new Map([['a.md', manager.get('a.md')!]]))[0].content).toBe('from manager');
  expect(materializeWorkspace(ws, () => 'fn')[0].content).toBe('fn');
  expect(materializeWorkspace(ws, new Map())[0].content).toBe('');
  expect(metadataToFrontmatter(meta({ part_of: 'dir/p.md', modified_at: 0 }))).toEqual({
    part_of: '[p](/dir/p.md)',
  });
});

describe('links', () => {
  test('format and parse round trip', () => {
    for (const p of ['a.md', 'dir/b c.md', 'x(1).md', 'per%cent.md', 'angle<>.md', 'ü/ñ.md']) {
      const l = formatLink('T]itle', p);
      expect(parseLink(l).target.replace(/^\//, '')).toBe(p);
      expect(parseLink(l).title).toBe('T]itle');
    }
  });
  test('accepted input formats', () => {
    const parsed = parseMarkdownFiles([
      {
        path: 'README.md',
        content:
          '---\ncontents:\n  - "[A](/Folder/a.md)"\n  - "[B](<Folder/b c.md>)"\n  - Folder/c.md\n---\n\n',
      },
      { path: 'Folder/a.md', content: '---\npart_of: ../README.md\n---\n\n' },
      { path: 'Folder/b c.md', content: '---\npart_of: "[R](/README.md)"\n---\n\n' },
      { path: 'Folder/c.md', content: '---\npart_of: "[R](../README.md)"\n---\n\n' },
      { path: 'Folder/d.md', content: '---\npart_of: "[Root](<../README.md>)"\n---\n\n' },
    ]);
    expect(parsed.files.get('README.md')?.contents).toEqual(['Folder/a.md', 'Folder/b c.md', 'Folder/c.md']);
    for (const p of ['Folder/a.md', 'Folder/b c.md', 'Folder/c.md', 'Folder/d.md'])
      expect(parsed.files.get(p)?.part_of).toBe('README.md');
  });
  test('invalid frontmatter is reported, content kept as body', () => {
    const parsed = parseMarkdownFiles([
      { path: 'bad.md', content: '---\ntitle: [oops\n---\n\ntext' },
      { path: '../escape.md', content: 'x' },
      { path: 'image.png', content: 'binary' },
    ]);
    expect(parsed.problems.map((p) => p.path)).toEqual(['../escape.md', 'bad.md']);
    expect(parsed.bodies.get('bad.md')).toBe('---\ntitle: [oops\n---\n\ntext');
    expect(parsed.files.has('image.png')).toBe(false);
  });
});

// ---------------------------------------------------------------- round-trip property

const segment = fc.stringMatching(/^[A-Za-z0-9 _äöü日本-]{1,8}$/).filter((s) => s.trim() === s && s !== '');
const text = fc.string({
  unit: fc.constantFrom('a', 'b', ' ', '\n', 'é', '😀', '日', ':', '#', '-', '"', "'", '[', ']'),
  maxLength: 30,
});
const extraValue = fc.oneof(
  fc.integer(),
  fc.boolean(),
  text,
  fc.constant(null),
  fc.array(text, { maxLength: 3 }),
  fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.oneof(fc.integer(), text), { maxKeys: 2 }),
);

const workspaceArb = fc
  .uniqueArray(
    fc.array(segment, { minLength: 1, maxLength: 3 }).map((segs) => `${segs.join('/')}.md`),
    {
      minLength: 1,
      maxLength: 8,
    },
  )
  .chain((paths) =>
    fc.tuple(
      fc.constant(paths),
      fc.array(
        fc.record({
          title: fc.option(
            text.filter((t) => t.trim() === t),
            { nil: null },
          ),
          parent: fc.option(fc.nat(paths.length - 1), { nil: null }),
          children: fc.option(fc.uniqueArray(fc.nat(paths.length - 1), { maxLength: 3 }), { nil: null }),
          audience: fc.option(fc.array(segment, { maxLength: 2 }), { nil: null }),
          description: fc.option(text, { nil: null }),
          attachment: fc.option(segment, { nil: null }),
          extra: fc.dictionary(fc.stringMatching(/^[a-z][a-z_]{0,6}$/), extraValue, { maxKeys: 3 }),
          modified: fc.integer({ min: 1, max: 4_000_000_000_000 }),
          body: text,
        }),
        { minLength: paths.length, maxLength: paths.length },
      ),
    ),
  );

test('parse(materialize(workspace)) == workspace (property)', () => {
  fc.assert(
    fc.property(workspaceArb, ([paths, specs]) => {
      const ws = new WorkspaceCrdt();
      const bodies = new Map<string, string>();
      const expected = new Map<string, FileMetadata>();
      paths.forEach((path, i) => {
        const s = specs[i];
        const extra: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(s.extra)) {
          if (
            !['title', 'part_of', 'contents', 'audience', 'description', 'attachments', 'updated'].includes(k)
          )
            extra[k] = v;
        }
        const m = meta({
          filename: path.slice(path.lastIndexOf('/') + 1),
          title: s.title,
          part_of: s.parent === null ? null : paths[s.parent],
          contents: s.children === null ? null : s.children.map((c) => paths[c]),
          audience: s.audience,
          description: s.description,
          attachments:
            s.attachment === null
              ? []
              : [
                  {
                    path: `att/${s.attachment}.png`,
                    source: 'local',
                    hash: '',
                    mime_type: '',
                    size: 0,
                    uploaded_at: null,
                    deleted: false,
                  },
                ],
          extra,
          modified_at: s.modified,
        });
        ws.setFile(path, m);
        expected.set(path, m);
        bodies.set(path, s.body);
      });
      const parsed = parseMarkdownFiles(materializeWorkspace(ws, bodies));
      expect(parsed.problems).toEqual([]);
      expect(new Map([...parsed.files].sort())).toEqual(new Map([...expected].sort()));
      expect(parsed.bodies).toEqual(bodies);
      // and materialize is deterministic
      expect(materializeWorkspace(ws, bodies)).toEqual(materializeWorkspace(ws, bodies));
    }),
    { numRuns: Number(process.env.FC_RUNS ?? 100) },
  );
});

describe('materialize / parse: key order, links, body sources', () => {
  const meta = (init: Partial<FileMetadata> = {}): FileMetadata =>
    createFileMetadata({ modified_at: 1000, ...init });

  test('key order, link format, _ keys dropped, tombstones skipped, body-only files', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('README.md', meta({ title: 'Home', contents: ['notes/a.md'], modified_at: 0 }));
    ws.setFile(
      'notes/a.md',
      meta({
        title: 'A',
        part_of: 'README.md',
        contents: [],
        audience: ['me'],
        description: 'd',
        attachments: [
          {
            path: 'img/x.png',
            source: 'local',
            hash: '',
            mime_type: '',
            size: 0,
            uploaded_at: null,
            deleted: false,
          },
        ],
        extra: { zeta: 1, alpha: 2, _private: 3 },
        modified_at: Date.UTC(2024, 4, 6, 7, 8, 9, 10),
      }),
    );
    ws.setFile('gone.md', meta({ title: 'Gone' }));
    ws.deleteFile('gone.md');
    ws.setFile('plain.md', { modified_at: 0 });
    const files = materializeWorkspace(
      ws,
      new Map([
        ['notes/a.md', 'Body A\n'],
        ['plain.md', 'just text'],
      ]),
    );
    expect(files.map((f) => f.path)).toEqual(['README.md', 'notes/a.md', 'plain.md']);
    const a = files[1].content;
    expect(a.startsWith('---\n')).toBe(true);
    expect(a.endsWith('\n---\n\nBody A\n')).toBe(true);
    const keys = a
      .split('\n---\n')[0]
      .split('\n')
      .filter((l) => /^[A-Za-z_]\w*:/.test(l))
      .map((l) => l.slice(0, l.indexOf(':')));
    expect(keys).toEqual([
      'title',
      'part_of',
      'contents',
      'audience',
      'description',
      'attachments',
      'updated',
      'alpha',
      'zeta',
    ]);
    expect(a).toContain('part_of: "[Home](/README.md)"');
    expect(a).toContain('contents: []');
    expect(a).toContain('updated: 2024-05-06T07:08:09.010Z');
    expect(a).not.toContain('_private');
    expect(files[2].content).toBe('just text');
    const parsed = parseMarkdownFiles(files);
    expect(parsed.files.get('notes/a.md')).toMatchObject({
      title: 'A',
      part_of: 'README.md',
      contents: [],
      audience: ['me'],
      description: 'd',
      extra: { alpha: 2, zeta: 1 },
      modified_at: Date.UTC(2024, 4, 6, 7, 8, 9, 10),
    });
    expect(parsed.bodies.get('notes/a.md')).toBe('Body A\n');
    expect(parsed.files.get('README.md')?.contents).toEqual(['notes/a.md']);
  });

  test('bodies may be given as a plain object keyed by path', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', meta({ title: 'A' }));
    const files = materializeWorkspace(ws, { 'a.md': 'hello' });
    expect(files[0].content.endsWith('\n---\n\nhello')).toBe(true);
  });

  test('materializeWorkspace, parseMarkdownFiles and parseMarkdownFile agree', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', meta({ title: 'A' }));
    const files = materializeWorkspace(ws, new Map([['a.md', 'body']]));
    expect(parseMarkdownFiles(files).files.get('a.md')?.title).toBe('A');
    expect(parseMarkdownFile(files[0])).toMatchObject({
      path: 'a.md',
      metadata: { title: 'A' },
      body: 'body',
    });
    expect(parseMarkdownFile({ path: 'a.md', content: files[0].content }).body).toBe('body');
  });
});
