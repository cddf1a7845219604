import fc from 'fast-check';
import * as Y from 'yjs';
import { REMOTE_ORIGIN } from '../src/client';
import { TestSyncServerCore } from '../src/client/testing';
import {
  WS,
  bodyText,
  expectConverged,
  fileJson,
  liveEntries,
  makeClient,
  seedServer,
  type Client,
} from './session-helpers';

// Real sockets and timers on a shared 2-core machine: allow more than Jest's 5 s default.
jest.setTimeout(30000);

/** Forwards every local change of a client's docs as LocalUpdate events. */
function forwardLocal(c: Client): void {
  c.docs.workspaceDoc.on('update', (u: Uint8Array, origin: unknown) => {
    if (origin !== REMOTE_ORIGIN) c.pipe.feed({ type: 'LocalUpdate', docId: `workspace:${WS}`, update: u });
  });
}
function editBody(c: Client, path: string, text: string): void {
  c.docs.bodies.get(path);
  const doc = c.docs.bodyDocs.get(path)!;
  const handler = (u: Uint8Array, origin: unknown): void => {
    if (origin !== REMOTE_ORIGIN)
      c.pipe.feed({ type: 'LocalUpdate', docId: `body:${WS}/${path}`, update: u });
  };
  doc.on('update', handler);
  doc.getText('body').insert(0, text);
  doc.off('update', handler);
}

describe('SyncSession properties (fast-check over faults and workloads)', () => {
  it('Synced is never reported before every server body arrived, and everything converges', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 10 }),
        (seed, maxDelay, dropRate, serverFiles, localFiles) => {
          const core = new TestSyncServerCore({ workspaces: [WS], sendSyncComplete: seed % 3 !== 0 });
          const files: Record<string, string> = {};
          for (let i = 0; i < serverFiles; i++) files[`s/${i}.md`] = `server ${i}`;
          seedServer(core, files);
          const c = makeClient(core, { seed, dropRate, maxDelayMs: maxDelay }, 500);
          c.docs.workspaceDoc.transact(() => {
            for (let i = 0; i < localFiles; i++)
              c.docs.workspaceDoc.getMap<string>('files').set(`l/${i}.md`, fileJson(`${i}.md`));
          });
          for (let i = 0; i < localFiles; i++) {
            c.docs.bodies.get(`l/${i}.md`);
            c.docs.bodyDocs.get(`l/${i}.md`)!.getText('body').insert(0, `local ${i}`);
          }
          let violations = 0;
          c.pipe.listeners.push((e) => {
            if (e.type !== 'StatusChanged' || e.status !== 'synced') return;
            for (const [path, text] of Object.entries(files))
              if (bodyText(c.docs.bodyDocs.get(path)) !== text) violations++;
          });
          c.pipe.connect();
          if (!c.pipe.run(() => c.session.isSynced, 300_000)) return false;
          if (violations > 0) return false;
          // Heal anything the server lost to drops with one clean reconnect, then compare.
          c.pipe.disconnect();
          c.pipe.setFaults({ maxDelayMs: maxDelay });
          c.pipe.connect();
          if (!c.pipe.run(() => c.session.isSynced, 300_000) || !c.pipe.drain()) return false;
          expectConverged(core, c);
          return core.liveFiles(WS).length === serverFiles + localFiles;
        },
      ),
      { numRuns: 25 },
    );
  });

  it('two clients editing the same documents concurrently converge', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 50 }),
        (seed, maxDelay) => {
          const core = new TestSyncServerCore({ workspaces: [WS] });
          seedServer(core, { 'shared.md': 'base', 'other.md': 'o' });
          const a = makeClient(core, { seed, maxDelayMs: maxDelay });
          const b = makeClient(core, { seed: seed + 1, maxDelayMs: maxDelay });
          forwardLocal(a);
          forwardLocal(b);
          a.pipe.connect();
          b.pipe.connect();
          // Interleave: both run while editing before, during and after their initial sync.
          for (let step = 0; step < 6; step++) {
            a.pipe.run(() => false, 15);
            b.pipe.run(() => false, 15);
            // Edits made while the session is not active yet are carried by the handshake.
            editBody(a, 'shared.md', `a${step}`);
            editBody(b, 'shared.md', `b${step}`);
            if (step === 3)
              a.docs.workspaceDoc.getMap<string>('files').set('from-a.md', fileJson('from-a.md'));
          }
          if (!a.pipe.run(() => a.session.isSynced) || !b.pipe.run(() => b.session.isSynced)) return false;
          for (let i = 0; i < 3; i++) {
            a.pipe.drain();
            b.pipe.drain();
          }
          // Updates sent by one client reach the other as broadcasts.
          expect(bodyText(a.docs.bodyDocs.get('shared.md'))).toBe(bodyText(b.docs.bodyDocs.get('shared.md')));
          expect(bodyText(a.docs.bodyDocs.get('shared.md'))).toBe(
            bodyText(core.docs.get(`body:${WS}/shared.md`)),
          );
          expect(liveEntries(b.docs.workspaceDoc)).toEqual(liveEntries(core.doc(`workspace:${WS}`)));
          expect(Object.keys(liveEntries(a.docs.workspaceDoc)).sort()).toEqual([
            'from-a.md',
            'other.md',
            'shared.md',
          ]);
          expect(Y.encodeStateVector(a.docs.bodyDocs.get('shared.md')!)).toEqual(
            Y.encodeStateVector(b.docs.bodyDocs.get('shared.md')!),
          );
          return true;
        },
      ),
      { numRuns: 25 },
    );
  });
});
