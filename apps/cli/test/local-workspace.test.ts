import * as Y from 'yjs';
import { LocalWorkspace, syncPathProblem } from '@diaryx-sync/cli';

describe('LocalWorkspace (CLI document model)', () => {
  it('imports markdown as minimal changes and forwards only local updates', () => {
    const local = new LocalWorkspace('ws_l');
    const sent: string[] = [];
    local.forwardTo((docId) => sent.push(docId));
    const first = local.importFiles([
      { path: 'a.md', content: '---\ntitle: A\n---\n\nbody a\n' },
      { path: './b.md', content: 'body b\n' },
    ]);
    expect(first.created.sort()).toEqual(['a.md', 'b.md']);
    expect(new Set(sent)).toEqual(new Set(['workspace:ws_l', 'body:ws_l/a.md', 'body:ws_l/b.md']));

    sent.length = 0;
    const again = local.importFiles(local.materialize());
    expect(again).toMatchObject({ created: [], updated: [], unchanged: 2 });
    expect(sent).toEqual([]);

    const vector = Y.encodeStateVector(local.bodies.get('a.md')!.doc);
    const edit = local.importFiles([{ path: 'a.md', content: '---\ntitle: A\n---\n\nbody A!\n' }]);
    expect(edit.updated).toEqual(['a.md']);
    expect(sent).toEqual(['body:ws_l/a.md']); // metadata unchanged: no workspace update
    const delta = Y.encodeStateAsUpdate(local.bodies.get('a.md')!.doc, vector);
    expect(Y.decodeUpdate(delta).structs.length).toBeLessThanOrEqual(2);
    expect(local.bodyText('a.md')).toBe('body A!\n');
  });

  it('a new file keeps its frontmatter `updated`; one without is stamped now', () => {
    const local = new LocalWorkspace('ws_l');
    const fixed = '---\ntitle: Old\nupdated: 2024-01-02T03:04:05.006Z\n---\n\nold body\n';
    local.importFiles(
      [
        { path: 'old.md', content: fixed },
        { path: 'new.md', content: 'new' },
      ],
      { now: 1800000000000 },
    );
    expect(local.workspace.getFile('old.md')?.modified_at).toBe(Date.parse('2024-01-02T03:04:05.006Z'));
    expect(local.workspace.getFile('new.md')?.modified_at).toBe(1800000000000);
    expect(local.materialize().find((f) => f.path === 'old.md')?.content).toBe(fixed);
  });

  it('skips paths whose body doc id would exceed 255 bytes (reported as problems, never renamed to)', () => {
    const local = new LocalWorkspace('ws_l');
    const sent: string[] = [];
    local.forwardTo((docId) => sent.push(docId));
    const long = `${'a'.repeat(130)}/${'b'.repeat(130)}.md`;
    const summary = local.importFiles([
      { path: long, content: 'too long' },
      { path: 'ok.md', content: 'ok' },
    ]);
    expect(summary.created).toEqual(['ok.md']);
    // Over the 185-byte path limit of safe names (docs/protocol.md#paths), which keeps every body
    // doc id within 255 bytes.
    expect(summary.problems).toEqual([{ path: long, message: expect.stringMatching(/longer than 185/) }]);
    expect(local.livePaths()).toEqual(['ok.md']);
    expect(local.renameFile('ok.md', long)).toBe(false);
    expect(local.livePaths()).toEqual(['ok.md']);
    expect(sent.every((id) => Buffer.byteLength(id) <= 255)).toBe(true);

    // Written by another client: in the workspace, but never offered to the sync session.
    const other = new LocalWorkspace('ws_l');
    Y.applyUpdate(other.workspace.doc, local.workspace.encodeStateAsUpdate());
    other.workspace.setFile(long, { ...other.workspace.getFile('ok.md')!, filename: 'b.md' });
    Y.applyUpdate(local.workspace.doc, other.workspace.encodeStateAsUpdate());
    expect(local.livePaths()).toEqual([long, 'ok.md'].sort());
    expect(local.documents.workspace.livePaths()).toEqual(['ok.md']);
  });

  it('tombstones missing files only with deleteMissing, and renames keep the body history', () => {
    const local = new LocalWorkspace('ws_l');
    local.importFiles([
      { path: 'x.md', content: 'x' },
      { path: 'y.md', content: 'y' },
    ]);
    expect(local.importFiles([{ path: 'x.md', content: 'x' }]).deleted).toEqual([]);
    expect(local.importFiles([{ path: 'x.md', content: 'x' }], { deleteMissing: true }).deleted).toEqual([
      'y.md',
    ]);
    expect(local.livePaths()).toEqual(['x.md']);

    const doc = local.bodies.get('x.md')!.doc;
    const sent: [string, Uint8Array][] = [];
    local.forwardTo((id, u) => sent.push([id, u]));
    expect(local.renameFile('x.md', 'dir/z.md')).toBe(true);
    expect(local.livePaths()).toEqual(['dir/z.md']);
    expect(local.workspace.getFile('x.md')?.deleted).toBe(true);
    expect(local.bodies.get('dir/z.md')!.doc).toBe(doc);
    const bodyUpdate = sent.find(([id]) => id === 'body:ws_l/dir/z.md');
    expect(bodyUpdate).toBeDefined();
    const replica = new Y.Doc();
    Y.applyUpdate(replica, bodyUpdate![1]);
    expect(replica.getText('body').toString()).toBe('x');
    expect(local.renameFile('missing.md', 'q.md')).toBe(false);
  });

  it('syncPathProblem: unsafe names everywhere, names Windows cannot hold only on Windows', () => {
    expect(syncPathProblem('ws', 'notes/a.md', 'linux')).toBeUndefined();
    expect(syncPathProblem('ws', 'PRN.md', 'linux')).toMatch(/reserved name on Windows/);
    expect(syncPathProblem('ws', 'a\u202Eb.md', 'darwin')).toMatch(/bidi control/);
    expect(syncPathProblem('ws', 'cafe\u0301.md', 'linux')).toMatch(/not in Unicode NFC/);
    for (const name of ['what?.md', 'a:b.md', 'x/trailing. /y.md', 'pipe|.md']) {
      expect(syncPathProblem('ws', name, 'linux')).toBeUndefined();
      expect(syncPathProblem('ws', name, 'win32')).toMatch(/not allowed on Windows/);
    }
  });
});
