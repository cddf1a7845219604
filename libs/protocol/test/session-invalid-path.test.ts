import { TestSyncServerCore } from '../src/client/testing';
import { WS, bodyText, makeClient, seedServer } from './session-helpers';

/** A path whose body doc id (`body:ws_test/…`) is over 255 bytes: valid in the map, unusable on the wire. */
const LONG = `${'x'.repeat(260)}.md`;

describe('SyncSession with a workspace entry whose body doc id is invalid', () => {
  it('skips the path, reports one Error event, and still syncs the other files', () => {
    const core = new TestSyncServerCore({ workspaces: [WS] });
    seedServer(core, { 'a.md': 'A', [LONG]: 'too long', 'b.md': 'B' });
    const c = makeClient(core, { seed: 1, minDelayMs: 0, maxDelayMs: 5 });
    c.pipe.connect();
    // Before the fix, bodyDocId threw out of handle() (an uncaught exception in the client).
    expect(c.pipe.run(() => c.session.isSynced)).toBe(true);
    expect(bodyText(c.docs.bodyDocs.get('a.md'))).toBe('A');
    expect(bodyText(c.docs.bodyDocs.get('b.md'))).toBe('B');
    expect(c.session.pendingBodies()).toEqual([]);
    expect(c.session.syncedBodies().sort()).toEqual(['a.md', 'b.md']);
    const errors = c.pipe.events.filter((e) => e.type === 'Error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ type: 'Error', message: expect.stringContaining(LONG) as unknown });
    // Later workspace updates re-scan the live files: the bad path is not reported again.
    core.doc(`workspace:${WS}`).getMap<string>('files').delete('b.md');
    expect(c.pipe.drain()).toBe(true);
    expect(c.pipe.events.filter((e) => e.type === 'Error')).toHaveLength(1);
  });
});
