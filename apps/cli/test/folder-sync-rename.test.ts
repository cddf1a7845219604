import { deliver, read, removePeerDirs, twoPeers, write } from './helpers/merge-peers';

afterAll(removePeerDirs);

describe('FolderSync: remote rename of a file with unsynced local edits', () => {
  it('a remote rename: the local edit is applied to the renamed doc and written under the new path', async () => {
    const [a, b] = await twoPeers();
    const start = read(b, 'f.md')!;
    write(b, 'f.md', start.replace('line two', 'line two, edited in B'));
    expect(a.local.renameFile('f.md', 'g.md')).toBe(true);
    deliver(a, b);
    // B's debounce fires between the rename event and the write: it must leave it to the flush.
    await b.sync.processLocalChange('f.md');
    await b.sync.processRemoteChanges();
    expect(read(b, 'f.md')).toBeUndefined();
    expect(read(b, 'g.md')).toMatch(/\n\nline one\nline two, edited in B\nline three\n$/);
    expect(b.local.workspace.getFile('f.md')?.deleted).toBe(true);
    deliver(b, a);
    await a.sync.processRemoteChanges();
    expect(a.local.bodyText('g.md')).toBe('line one\nline two, edited in B\nline three\n');
    expect(a.local.livePaths()).toEqual(['g.md']);
    // The old path's pending debounce finds nothing to do; nothing is resurrected.
    await b.sync.processLocalChange('f.md');
    await b.sync.processLocalChange('g.md');
    expect(b.outbox).toEqual([]);
    expect(b.local.livePaths()).toEqual(['g.md']);
  });

  it('a remote rename arriving while a flush is reading the old file: no resurrected old path', async () => {
    const [a, b] = await twoPeers();
    const start = read(b, 'f.md')!;
    write(b, 'f.md', start.replace('line two', 'line two, edited in B'));
    b.sync.onSyncEvent({ type: 'BodyChanged', path: 'f.md' });
    const flushing = b.sync.processRemoteChanges();
    // Microtasks only: the flush has started and waits for its first file read (I/O).
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(a.local.renameFile('f.md', 'g.md')).toBe(true);
    deliver(a, b);
    await flushing;
    await b.sync.processRemoteChanges();
    expect(read(b, 'f.md')).toBeUndefined();
    expect(read(b, 'g.md')).toMatch(/\n\nline one\nline two, edited in B\nline three\n$/);
    expect(b.local.livePaths()).toEqual(['g.md']);
    deliver(b, a);
    await a.sync.processRemoteChanges();
    expect(a.local.livePaths()).toEqual(['g.md']);
    expect(a.local.bodyText('g.md')).toBe('line one\nline two, edited in B\nline three\n');
  });
});
