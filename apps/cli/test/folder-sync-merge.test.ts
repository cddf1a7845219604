import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as Y from 'yjs';
import { createFileMetadata } from '@diaryx-sync/crdt';
import { replaceFileIfUnchanged } from '../src/folder';
import { mergeLocalMetadata } from '../src/metadata-merge';
import { mergeLocalText } from '../src/text-merge';
import { BASE_TEXT, UPDATED, deliver, read, removePeerDirs, twoPeers, write } from './helpers/merge-peers';

afterAll(removePeerDirs);

describe('mergeLocalText (three-way merge of a local edit into a live Y.Doc)', () => {
  it('keeps remote edits made since the base and applies only the local change', () => {
    const live = new Y.Doc();
    live.getText('body').insert(0, BASE_TEXT);
    const base = Y.encodeStateAsUpdate(live);
    // A remote peer changes line three after the base.
    const remote = new Y.Doc();
    Y.applyUpdate(remote, base);
    remote.getText('body').delete(BASE_TEXT.indexOf('three'), 5);
    remote.getText('body').insert(BASE_TEXT.indexOf('three'), 'THREE');
    Y.applyUpdate(live, Y.encodeStateAsUpdate(remote, Y.encodeStateVector(live)));
    // The local copy still holds the base text with line one changed.
    const sent: Uint8Array[] = [];
    live.on('update', (u: Uint8Array, origin: unknown) => origin === 'local' && sent.push(u));
    const r = mergeLocalText(live, 'body', base, BASE_TEXT.replace('one', 'ONE'), 'local');
    expect(r.changed).toBe(true);
    expect(live.getText('body').toString()).toBe('line ONE\nline two\nline THREE\n');
    // The new base is the local text exactly, and a state the live doc contains.
    const fork = new Y.Doc();
    Y.applyUpdate(fork, r.baseState);
    expect(fork.getText('body').toString()).toBe(BASE_TEXT.replace('one', 'ONE'));
    // The change went out as an update that brings the remote peer to the merged text.
    expect(sent).toHaveLength(1);
    Y.applyUpdate(remote, sent[0]!);
    expect(remote.getText('body').toString()).toBe('line ONE\nline two\nline THREE\n');
    // Nothing changed locally: no operation.
    expect(mergeLocalText(live, 'body', r.baseState, BASE_TEXT.replace('one', 'ONE'), 'local').changed).toBe(
      false,
    );
  });

  it('a local deletion does not delete text inserted remotely inside the deleted range', () => {
    const live = new Y.Doc();
    live.getText('body').insert(0, 'aaa bbb ccc');
    const base = Y.encodeStateAsUpdate(live);
    const remote = new Y.Doc();
    Y.applyUpdate(remote, base);
    remote.getText('body').insert(5, 'REMOTE');
    Y.applyUpdate(live, Y.encodeStateAsUpdate(remote, Y.encodeStateVector(live)));
    mergeLocalText(live, 'body', base, 'aaa ccc', 'local');
    expect(live.getText('body').toString()).toBe('aaa REMOTEccc');
  });
});

describe('mergeLocalMetadata (field-level three-way merge)', () => {
  it('sets the fields the local side changed and keeps the remote ones', () => {
    const base = createFileMetadata({
      title: 'T',
      description: 'd',
      extra: { k: 1, gone: 2 },
      modified_at: 5,
    });
    const local = createFileMetadata({ title: 'T local', description: 'd', extra: { k: 1 }, modified_at: 5 });
    const current = createFileMetadata({
      title: 'T',
      description: 'd remote',
      extra: { k: 1, gone: 2, added: 3 },
      modified_at: 9,
    });
    expect(mergeLocalMetadata(base, local, current)).toEqual({
      ...current,
      title: 'T local',
      extra: { k: 1, added: 3 },
    });
    expect(mergeLocalMetadata(base, base, current)).toBeUndefined();
  });
});

describe('FolderSync: a local edit and a concurrent remote edit of the same file', () => {
  it('both changes survive on both sides (no overwrite of an unsynced local edit)', async () => {
    const [a, b] = await twoPeers();
    const start = read(a, 'f.md')!;
    // A changes line one; 50 ms later B changes line three. Neither has synced yet.
    write(a, 'f.md', start.replace('line one', 'line ONE (A)'));
    write(b, 'f.md', start.replace('line three', 'line THREE (B)'));
    // A's debounce fires first: its change reaches B while B's edit is still unsynced on disk.
    await a.sync.processLocalChange('f.md');
    deliver(a, b);
    await b.sync.processRemoteChanges();
    const both = start.replace('line one', 'line ONE (A)').replace('line three', 'line THREE (B)');
    expect(read(b, 'f.md')).toBe(both);
    // B's debounce fires: its own merged write is not read back as a new edit.
    await b.sync.processLocalChange('f.md');
    deliver(b, a);
    await a.sync.processRemoteChanges();
    expect(read(a, 'f.md')).toBe(both);
    expect(a.local.bodyText('f.md')).toBe('line ONE (A)\nline two\nline THREE (B)\n');
    expect(b.local.bodyText('f.md')).toBe(a.local.bodyText('f.md'));
    // Converged: nothing left to send either way.
    await a.sync.processLocalChange('f.md');
    await b.sync.processLocalChange('f.md');
    expect(a.outbox).toEqual([]);
    expect(b.outbox).toEqual([]);
  });

  it('the remote change arriving before the local debounce: merged, and the debounce finds nothing new', async () => {
    const [a, b] = await twoPeers();
    const start = read(a, 'f.md')!;
    write(b, 'f.md', start.replace('line two', 'line two, edited in B'));
    write(a, 'f.md', start.replace('line one', 'line one, edited in A'));
    await a.sync.processLocalChange('f.md');
    deliver(a, b);
    b.sync.onSyncEvent({ type: 'BodyChanged', path: 'f.md' });
    await b.sync.processRemoteChanges();
    // B's local edit reached the CRDT through the merge (before the debounce).
    expect(b.outbox.length).toBeGreaterThan(0);
    deliver(b, a);
    await a.sync.processRemoteChanges();
    await b.sync.processLocalChange('f.md');
    expect(b.outbox).toEqual([]);
    const both = start
      .replace('line one', 'line one, edited in A')
      .replace('line two', 'line two, edited in B');
    expect(read(a, 'f.md')).toBe(both);
    expect(read(b, 'f.md')).toBe(both);
  });

  it('frontmatter: different fields changed on both sides are both kept', async () => {
    const [a, b] = await twoPeers(`---\ntitle: F\ndescription: old\n${UPDATED}\n---\n\n${BASE_TEXT}`);
    const start = read(a, 'f.md')!;
    write(a, 'f.md', start.replace('title: F', 'title: F from A'));
    write(
      b,
      'f.md',
      start.replace('description: old', 'description: new from B').replace('line two', 'LINE TWO'),
    );
    await a.sync.processLocalChange('f.md');
    deliver(a, b);
    await b.sync.processRemoteChanges();
    deliver(b, a);
    await a.sync.processRemoteChanges();
    for (const p of [a, b]) {
      expect(p.local.workspace.getFile('f.md')).toMatchObject({
        title: 'F from A',
        description: 'new from B',
      });
      expect(p.local.bodyText('f.md')).toBe('line one\nLINE TWO\nline three\n');
      expect(read(p, 'f.md')).toMatch(/title: F from A\n[\s\S]*description: new from B\n[\s\S]*LINE TWO/);
    }
    expect(read(a, 'f.md')).toBe(read(b, 'f.md'));
  });
});

describe('FolderSync: remote delete of a file with unsynced local edits', () => {
  it('a remote delete of a file edited locally keeps the file and restores it', async () => {
    const [a, b] = await twoPeers();
    const start = read(b, 'f.md')!;
    write(b, 'f.md', start.replace('line two', 'kept'));
    expect(a.local.deleteFile('f.md')).toBe(true);
    deliver(a, b);
    await b.sync.processRemoteChanges();
    expect(read(b, 'f.md')).toMatch(/\n\nline one\nkept\nline three\n$/);
    expect(b.local.workspace.getFile('f.md')?.deleted).toBe(false);
    deliver(b, a);
    expect(a.local.workspace.getFile('f.md')?.deleted).toBe(false);
    expect(a.local.bodyText('f.md')).toBe('line one\nkept\nline three\n');
  });

  it('a remote delete of an unchanged file removes it', async () => {
    const [a, b] = await twoPeers();
    expect(a.local.deleteFile('f.md')).toBe(true);
    deliver(a, b);
    await b.sync.processRemoteChanges();
    expect(read(b, 'f.md')).toBeUndefined();
    expect(b.log).toContain('deleted f.md (remote)');
  });
});

describe('mergeLocalText: client ids', () => {
  it('one merge client per doc (not one per edit); the doc keeps its own id', () => {
    const live = new Y.Doc();
    live.getText('body').insert(0, BASE_TEXT);
    const id = live.clientID;
    let base = Y.encodeStateAsUpdate(live);
    for (const word of ['one', 'two', 'three']) {
      const text = live.getText('body').toString().replace(word, word.toUpperCase());
      base = mergeLocalText(live, 'body', base, text, 'local').baseState;
    }
    expect(live.getText('body').toString()).toBe('line ONE\nline TWO\nline THREE\n');
    expect(live.clientID).toBe(id);
    expect(Y.decodeStateVector(Y.encodeStateVector(live)).size).toBe(2);
  });
});

describe('replaceFileIfUnchanged', () => {
  it('writes only when the file still holds the expected text, and leaves no temp file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'diaryx-replace-'));
    try {
      const file = path.join(dir, 'f.md');
      writeFileSync(file, 'edited meanwhile');
      expect(await replaceFileIfUnchanged(file, 'what we read', 'remote')).toBe(false);
      expect(readFileSync(file, 'utf8')).toBe('edited meanwhile');
      expect(await replaceFileIfUnchanged(file, 'edited meanwhile', 'remote')).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe('remote');
      expect(await replaceFileIfUnchanged(path.join(dir, 'new.md'), undefined, 'created')).toBe(true);
      expect(readdirSync(dir).sort()).toEqual(['f.md', 'new.md']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
