import {
  BodyDocManager,
  createFileMetadata,
  serializeFileMetadata,
  validateWorkspace,
  ValidationIssueKind,
  WorkspaceCrdt,
  type FileMetadata,
} from '../src';

const meta = createFileMetadata;

test('a consistent workspace is ok (empty bodies are fine)', () => {
  const ws = new WorkspaceCrdt();
  ws.setFile('README.md', meta({ contents: ['a.md'] }));
  ws.setFile('a.md', meta({ part_of: 'README.md' }));
  const report = validateWorkspace(
    ws,
    new Map([
      ['README.md', ''],
      ['a.md', ''],
    ]),
  );
  expect(report).toEqual({ ok: true, issues: [] });
});

test('reports every kind of issue with file and message', () => {
  const ws = new WorkspaceCrdt();
  ws.setFile('README.md', meta({ contents: ['a.md', 'missing.md', 'dead.md'] }));
  ws.setFile('a.md', meta({ part_of: 'README.md' }));
  ws.setFile('dead.md', meta({ part_of: 'README.md' }));
  ws.doc
    .getMap<string>('files')
    .set('dead.md', serializeFileMetadata(meta({ filename: 'dead.md', deleted: true })));
  ws.setFile('orphan-parent.md', meta({ part_of: 'nowhere.md' }));
  ws.setFile('c1.md', meta({ part_of: 'c2.md' }));
  ws.setFile('c2.md', meta({ part_of: 'c1.md' }));
  const bodies = ['README.md', 'a.md', 'orphan-parent.md', 'c1.md', 'c2.md', 'dead.md', 'stray.md'];
  const report = validateWorkspace(ws, bodies);
  expect(report.ok).toBe(false);
  const kinds = report.issues.map((i) => `${i.kind}:${i.file}`);
  expect(kinds).toEqual([
    'missing_child:README.md',
    'missing_child:README.md',
    'path_cycle:c1.md',
    'path_cycle:c2.md',
    'orphan_body:dead.md',
    'broken_parent:orphan-parent.md',
    'orphan_body:stray.md',
  ]);
  for (const i of report.issues) expect(i.message.length).toBeGreaterThan(0);
});

test('missing body docs and duplicate paths (doc-id mode)', () => {
  const ws = new WorkspaceCrdt();
  const a = ws.createFile(meta({ filename: 'same.md' }));
  const b = ws.createFile(meta({ filename: 'same.md' }));
  ws.setFile('nobody.md', meta());
  const report = validateWorkspace(ws, new Set([a]));
  expect(report.issues.map((i) => `${i.kind}:${i.file}`)).toEqual([
    'missing_body:nobody.md',
    'duplicate_path:same.md',
  ]);
  expect(report.issues[1].message).toContain(a);
  expect(report.issues[1].message).toContain(b);
});

test('broken doc-id chain is a broken parent', () => {
  const ws = new WorkspaceCrdt();
  const id = ws.createFile(meta({ filename: 'x.md', part_of: '00000000-0000-4000-8000-000000000000' }));
  const report = validateWorkspace(ws, [id]);
  expect(report.issues.map((i) => i.kind)).toEqual(['broken_parent']);
});

test('body docs can be given as a BodyDocManager', () => {
  const ws = new WorkspaceCrdt();
  ws.setFile('a.md', meta());
  const m = new BodyDocManager();
  expect(validateWorkspace(ws, m).issues.map((i) => i.kind)).toEqual(['missing_body']);
  m.getOrCreate('a.md');
  expect(validateWorkspace(ws, m).ok).toBe(true);
});

describe('validateWorkspace: every kind, every body source', () => {
  const meta = (init: Partial<FileMetadata> = {}): FileMetadata =>
    createFileMetadata({ modified_at: 1000, ...init });

  test('every issue kind, with file and message; bodies as a Map, a Set, an object or a BodyDocManager', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('README.md', meta({ contents: ['a.md', 'missing.md'] }));
    ws.setFile('a.md', meta({ part_of: 'README.md' }));
    ws.setFile('broken.md', meta({ part_of: 'nowhere.md' }));
    ws.setFile('c1.md', meta({ part_of: 'c2.md' }));
    ws.setFile('c2.md', meta({ part_of: 'c1.md' }));
    const bodies = new Map<string, string>([
      ['README.md', ''],
      ['a.md', 'x'],
      ['broken.md', ''],
      ['c1.md', ''],
      ['orphan.md', 'no file'],
    ]);
    const report = validateWorkspace(ws, bodies);
    expect(report.ok).toBe(false);
    const kinds = report.issues.map((i) => `${i.kind}:${i.file}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'missing_child:README.md',
        'broken_parent:broken.md',
        'path_cycle:c1.md',
        'missing_body:c2.md',
        'orphan_body:orphan.md',
      ]),
    );
    for (const i of report.issues) expect(i.message.length).toBeGreaterThan(0);
    const asObject = validateWorkspace(ws, Object.fromEntries(bodies));
    expect(asObject.issues).toEqual(report.issues);
    expect(validateWorkspace(ws, new Set(bodies.keys())).issues).toEqual(report.issues);
    const mgr = new BodyDocManager();
    for (const p of bodies.keys()) mgr.getOrCreate(p);
    expect(validateWorkspace(ws, mgr).issues).toEqual(report.issues);
  });

  test('two live files resolving to one path', () => {
    const ws = new WorkspaceCrdt();
    ws.createFile(meta({ filename: 'same.md' }));
    ws.createFile(meta({ filename: 'same.md' }));
    const report = validateWorkspace(ws, ['same.md']);
    expect(report.issues.map((i) => i.kind)).toContain('duplicate_path');
  });

  test('ValidationIssueKind names each kind once', () => {
    const ws = new WorkspaceCrdt();
    ws.setFile('a.md', meta({ part_of: 'missing.md' }));
    const kinds = validateWorkspace(ws, ['a.md', 'orphan.md']).issues.map((i) => i.kind);
    expect(kinds).toEqual([ValidationIssueKind.BrokenParent, ValidationIssueKind.OrphanBody]);
    expect(ValidationIssueKind.MissingBody).toBe('missing_body');
  });
});
