/**
 * File events for change webhooks (docs/protocol.md#webhooks): changes of a workspace doc's
 * `files` map are classified, held until persisted, merged per file and queued once per debounce
 * window.
 */
import { WorkspaceCrdt } from '@diaryx-sync/crdt';
import type { FileEventsJobData } from '@diaryx-sync/bus';
import { createLogger } from '@diaryx-sync/runtime';
import * as Y from 'yjs';
import type { LoadedDoc } from '../src/docs/loaded-doc';
import { classify, FileEventCollector } from '../src/persistence/file-event-collector';

const log = createLogger('test', 'silent');

function fakeDoc(docId: string, parsed: LoadedDoc['parsed']): { doc: LoadedDoc; ydoc: Y.Doc } {
  const ydoc = new Y.Doc();
  return { doc: { tenant: 't1', docId, parsed, sync: { doc: ydoc } } as unknown as LoadedDoc, ydoc };
}

describe('classify', () => {
  const live = JSON.stringify({ filename: 'a.md', deleted: false });
  const gone = JSON.stringify({ filename: 'a.md', deleted: true });
  test('created, deleted, changed, renamed (doc-id keys), nothing for tombstone churn', () => {
    expect(classify(undefined, live, false)).toBe('file.created');
    expect(classify(gone, live, false)).toBe('file.created');
    expect(classify(live, gone, false)).toBe('file.deleted');
    expect(classify(live, undefined, false)).toBe('file.deleted');
    expect(classify(live, JSON.stringify({ filename: 'a.md', title: 'T' }), false)).toBe('file.changed');
    expect(classify(live, JSON.stringify({ filename: 'b.md' }), true)).toBe('file.renamed');
    expect(classify(gone, gone, false)).toBeUndefined();
  });
});

describe('FileEventCollector', () => {
  test('only persisted changes are queued, merged per file, once per window', async () => {
    const queued: FileEventsJobData[] = [];
    const collector = new FileEventCollector(async (d) => void queued.push(d), log, 50, 500);
    const { doc, ydoc } = fakeDoc('workspace:w1', { kind: 'workspace', workspaceId: 'w1' });
    collector.watch(doc);
    const remote = new WorkspaceCrdt();
    remote.setFile('a.md', {});
    Y.applyUpdate(ydoc, Y.encodeStateAsUpdate(remote.doc));
    await new Promise((r) => setTimeout(r, 100));
    expect(queued).toEqual([]); // applied but not persisted yet
    collector.persisted(doc);
    const body = fakeDoc('body:w1/a.md', { kind: 'body', workspaceId: 'w1', path: 'a.md' });
    collector.persisted(body.doc); // a body edit in the same window: still "created"
    collector.persisted(body.doc);
    await new Promise((r) => setTimeout(r, 150));
    expect(queued).toEqual([
      { tenant: 't1', workspace: 'w1', changes: [{ type: 'file.created', path: 'a.md' }] },
    ]);

    collector.persisted(body.doc);
    remote.deleteFile('a.md');
    remote.setFile('b.md', {});
    Y.applyUpdate(ydoc, Y.encodeStateAsUpdate(remote.doc));
    collector.persisted(doc);
    await collector.flush();
    expect(queued[1]!.changes).toEqual([
      { type: 'file.deleted', path: 'a.md' },
      { type: 'file.created', path: 'b.md' },
    ]);
  });
});
