/**
 * LocalWorkspace on a doc-id workspace (UUID keys): edits, new files, renames, moves and deletes
 * keep one entry per file, new files get UUID keys, bodies are named by key, and the workspace
 * stays valid (apps/cli/README.md, "Key forms").
 */
import { isDocIdKey, validateWorkspace, WorkspaceCrdt } from '@diaryx-sync/crdt';
import { LocalWorkspace } from '@diaryx-sync/cli';

const WS = 'ws_docids';

/** A doc-id workspace with README.md (root index) and notes/a.md under it, loaded into a LocalWorkspace. */
function seeded(): { local: LocalWorkspace; readme: string; note: string; sent: string[] } {
  const seed = new WorkspaceCrdt();
  const readme = seed.createFile({ filename: 'README.md', title: 'Home', modified_at: 1 });
  const note = seed.createFile({ filename: 'notes/a.md', title: 'A', part_of: readme, modified_at: 1 });
  const local = new LocalWorkspace(WS);
  local.workspace.applyUpdate(seed.encodeStateAsUpdate());
  const sent: string[] = [];
  local.forwardTo((docId) => sent.push(docId));
  local.importFiles(local.materialize()); // bodies exist (empty)
  return { local, readme, note, sent };
}

function bodyNames(local: LocalWorkspace): string[] {
  return [...local.bodies.loadedPaths()];
}

function expectValid(local: LocalWorkspace): void {
  expect(validateWorkspace(local.workspace, bodyNames(local)).issues).toEqual([]);
}

describe('LocalWorkspace in doc-id form', () => {
  it('detects the form from the keys; an empty workspace takes the constructor form', () => {
    expect(seeded().local.keyForm()).toBe('doc-id');
    expect(new LocalWorkspace(WS).keyForm()).toBe('path');
    const fresh = new LocalWorkspace(WS, 'doc-id');
    expect(fresh.keyForm()).toBe('doc-id');
    fresh.importFiles([{ path: 'x.md', content: 'x\n' }]);
    expect(isDocIdKey(fresh.keyOf('x.md') ?? '')).toBe(true);
    const pathForm = new LocalWorkspace(WS);
    pathForm.importFiles([{ path: 'x.md', content: 'x\n' }]);
    expect(pathForm.keyOf('x.md')).toBe('x.md');
  });

  it('an edit updates the UUID entry and its body (no path-keyed duplicate)', () => {
    const { local, note, sent } = seeded();
    const file = local.materialize().find((f) => f.path === 'notes/a.md')!;
    const summary = local.importFiles([{ path: 'notes/a.md', content: `${file.content}edited\n` }]);
    expect(summary).toMatchObject({ created: [], updated: ['notes/a.md'] });
    expect([...local.workspace.files.keys()].every(isDocIdKey)).toBe(true);
    expect(local.keyOf('notes/a.md')).toBe(note);
    expect(local.bodyText('notes/a.md')).toBe('edited\n');
    expect(sent).toContain(`body:${WS}/${note}`);
    expect(sent.some((d) => d.endsWith('/notes/a.md'))).toBe(false);
    expectValid(local);
  });

  it('pushing what was pulled changes nothing', () => {
    const { local } = seeded();
    const summary = local.importFiles(local.materialize());
    expect(summary).toMatchObject({ created: [], updated: [], deleted: [], unchanged: 2 });
  });

  it('a new file gets a UUID key with part_of the parent key, and its path', () => {
    const { local, readme } = seeded();
    local.importFiles([
      { path: 'notes/b.md', content: '---\ntitle: B\npart_of: "[Home](/README.md)"\n---\n\nbee\n' },
    ]);
    const key = local.keyOf('notes/b.md')!;
    expect(isDocIdKey(key)).toBe(true);
    expect(local.workspace.getFile(key)).toMatchObject({ part_of: readme, filename: 'notes/b.md' });
    expect(local.workspace.getPath(key)).toBe('notes/b.md');
    expect(local.bodyName('notes/b.md')).toBe(key);
    expect(local.materialize().find((f) => f.path === 'notes/b.md')?.content).toContain(
      'part_of: "[Home](/README.md)"',
    );
    expectValid(local);
  });

  it('a rename and a move are filename updates of the same key; the body never moves', () => {
    const { local, note } = seeded();
    local.importFiles([{ path: 'notes/a.md', content: local.materialize()[1].content + 'text\n' }]);
    expect(local.renameFile('notes/a.md', 'notes/renamed.md')).toBe(true);
    expect(local.keyOf('notes/renamed.md')).toBe(note);
    expect(local.renameFile('notes/renamed.md', 'elsewhere/moved.md')).toBe(true);
    expect(local.keyOf('elsewhere/moved.md')).toBe(note);
    expect(local.livePaths()).toEqual(['README.md', 'elsewhere/moved.md']);
    expect(local.workspace.size).toBe(2);
    expect(local.bodyName('elsewhere/moved.md')).toBe(note);
    expect(local.bodyText('elsewhere/moved.md')).toBe('text\n');
    expectValid(local);
  });

  it('renaming an index keeps its children at their paths', () => {
    const { local } = seeded();
    local.importFiles([{ path: 'x/index.md', content: '---\ntitle: X\n---\n\n' }]);
    local.importFiles([
      { path: 'x/c.md', content: '---\ntitle: C\npart_of: "[X](/x/index.md)"\n---\n\nsee\n' },
    ]);
    expect(local.workspace.getFile(local.keyOf('x/c.md')!)?.filename).toBe('c.md');
    expect(local.renameFile('x/index.md', 'y/index.md')).toBe(true);
    expect(local.livePaths()).toEqual(['README.md', 'notes/a.md', 'x/c.md', 'y/index.md']);
    expectValid(local);
  });

  it('a delete tombstones the UUID entry; --delete tombstones what the folder lacks', () => {
    const { local, note, readme } = seeded();
    expect(local.deleteFile('notes/a.md')).toBe(true);
    expect(local.workspace.getFile(note)?.deleted).toBe(true);
    const summary = local.importFiles([], { deleteMissing: true });
    expect(summary.deleted).toEqual(['README.md']);
    expect(local.workspace.getFile(readme)?.deleted).toBe(true);
  });
});
