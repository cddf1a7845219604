/**
 * Two clients and the server-side handler connected by an in-memory "network" that delays,
 * drops and reorders whole `/sync2` frames. After the chaos, one reliable sync exchange per
 * client and document must make every replica converge.
 */
import fc from 'fast-check';
import * as Y from 'yjs';
import { bodyDocId, parseDocId, workspaceDocId } from '@diaryx-sync/crdt';
import { decodeFrame, encodeFrame, encodeMessage } from '@diaryx-sync/protocol';
import { ConnectionDescriptor, DocSyncHandler } from '@diaryx-sync/protocol/server';
import { clientHandle, contentOf, REMOTE, step1Of } from './helpers/sim-client';

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface InFlight {
  to: string;
  frame: Uint8Array;
  deliverAt: number;
}

interface Chaos {
  dropRate: number;
  maxDelay: number;
}

const DOC_IDS = [workspaceDocId('ws1'), bodyDocId('ws1', './notes/a.md'), bodyDocId('ws1', 'b.md')];
const SERVER = 'server';

class Simulation {
  now = 0;
  inFlight: InFlight[] = [];
  delivered = 0;
  dropped = 0;
  readonly handlers = new Map<string, DocSyncHandler>();
  readonly subscribers = new Map<string, Set<string>>();
  readonly clients = new Map<string, Map<string, Y.Doc>>();
  chaos: Chaos;

  constructor(
    private readonly random: () => number,
    chaos: Chaos,
    clientIds: string[],
  ) {
    this.chaos = chaos;
    for (const docId of DOC_IDS) this.handlers.set(docId, new DocSyncHandler(new Y.Doc()));
    for (const id of clientIds) {
      const docs = new Map<string, Y.Doc>();
      for (const docId of DOC_IDS) {
        const doc = new Y.Doc();
        doc.on('update', (update: Uint8Array, origin: unknown) => {
          if (origin !== REMOTE) this.send(SERVER, id, docId, encodeMessage({ type: 'update', update }));
        });
        docs.set(docId, doc);
      }
      this.clients.set(id, docs);
    }
  }

  /** Queues a frame from `from` to `to`, subject to the current chaos. */
  send(to: string, from: string, docId: string, payload: Uint8Array): void {
    const frame = encodeFrame(docId, payload);
    if (this.random() < this.chaos.dropRate) {
      this.dropped++;
      return;
    }
    const delay = Math.floor(this.random() * (this.chaos.maxDelay + 1));
    this.inFlight.push({ to: `${to}<-${from}`, frame, deliverAt: this.now + delay });
  }

  /** Delivers every due frame, in random order. */
  tick(): void {
    this.now++;
    const due = this.inFlight.filter((f) => f.deliverAt <= this.now);
    this.inFlight = this.inFlight.filter((f) => f.deliverAt > this.now);
    // shuffle: reordering beyond what delays already cause
    for (let i = due.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [due[i], due[j]] = [due[j] as InFlight, due[i] as InFlight];
    }
    for (const f of due) this.deliver(f);
  }

  private deliver(f: InFlight): void {
    this.delivered++;
    const [to, from] = f.to.split('<-') as [string, string];
    const { docId, payload } = decodeFrame(f.frame);
    parseDocId(docId); // the wire id must be valid and canonical
    if (to === SERVER) {
      const conn: ConnectionDescriptor = { id: from, role: 'editor' };
      let subs = this.subscribers.get(docId);
      if (!subs) this.subscribers.set(docId, (subs = new Set()));
      subs.add(from);
      const result = (this.handlers.get(docId) as DocSyncHandler).handle(conn, payload);
      for (const reply of result.replies) this.send(from, SERVER, docId, reply);
      if (result.broadcast) {
        for (const other of subs) if (other !== from) this.send(other, SERVER, docId, result.broadcast);
      }
    } else {
      const doc = (this.clients.get(to) as Map<string, Y.Doc>).get(docId) as Y.Doc;
      for (const reply of clientHandle(doc, payload)) this.send(SERVER, to, docId, reply);
    }
  }

  startSync(clientId: string): void {
    for (const [docId, doc] of this.clients.get(clientId) as Map<string, Y.Doc>) {
      this.send(SERVER, clientId, docId, step1Of(doc));
    }
  }

  randomEdit(clientId: string): void {
    const docs = this.clients.get(clientId) as Map<string, Y.Doc>;
    const doc = docs.get(DOC_IDS[Math.floor(this.random() * DOC_IDS.length)] as string) as Y.Doc;
    const r = this.random();
    const text = doc.getText('t');
    if (r < 0.5 || text.length === 0) {
      text.insert(
        Math.floor(this.random() * (text.length + 1)),
        String.fromCharCode(97 + Math.floor(this.random() * 26)),
      );
    } else if (r < 0.8) {
      const pos = Math.floor(this.random() * text.length);
      text.delete(pos, 1 + Math.floor(this.random() * Math.min(3, text.length - pos)));
    } else {
      doc.getMap('m').set(`k${Math.floor(this.random() * 5)}`, Math.floor(this.random() * 100));
    }
  }

  drain(): void {
    let guard = 0;
    while (this.inFlight.length > 0) {
      this.tick();
      if (++guard > 10_000) throw new Error('network did not quiesce');
    }
  }
}

describe('in-memory pipe with delays, drops and reordering', () => {
  it('two clients and the server converge after a final sync exchange', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.double({ min: 0, max: 0.5, noNaN: true }),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 10, max: 120 }),
        (seed, dropRate, maxDelay, steps) => {
          const random = prng(seed);
          const sim = new Simulation(random, { dropRate, maxDelay }, ['a', 'b']);
          sim.startSync('a');
          sim.startSync('b');
          for (let i = 0; i < steps; i++) {
            const r = random();
            if (r < 0.35) sim.randomEdit('a');
            else if (r < 0.7) sim.randomEdit('b');
            else if (r < 0.75) sim.startSync(random() < 0.5 ? 'a' : 'b'); // a reconnect
            sim.tick();
          }
          // Calm network: flush what is still in flight, then one sync exchange per client.
          sim.chaos = { dropRate: 0, maxDelay: 2 };
          sim.drain();
          sim.startSync('a');
          sim.drain();
          sim.startSync('b');
          sim.drain();

          for (const docId of DOC_IDS) {
            const server = (sim.handlers.get(docId) as DocSyncHandler).doc;
            const a = sim.clients.get('a')?.get(docId) as Y.Doc;
            const b = sim.clients.get('b')?.get(docId) as Y.Doc;
            expect(contentOf(a)).toEqual(contentOf(server));
            expect(contentOf(b)).toEqual(contentOf(server));
            expect(server.store.pendingStructs).toBeNull();
            expect(server.store.pendingDs).toBeNull();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('the chaos is real: frames get dropped and edits are missing before the final exchange', () => {
    const random = prng(42);
    const sim = new Simulation(random, { dropRate: 0.4, maxDelay: 5 }, ['a', 'b']);
    sim.startSync('a');
    sim.startSync('b');
    for (let i = 0; i < 100; i++) {
      sim.randomEdit(i % 2 === 0 ? 'a' : 'b');
      sim.tick();
    }
    sim.chaos = { dropRate: 0, maxDelay: 0 };
    sim.drain();
    expect(sim.dropped).toBeGreaterThan(10);
    const diverged = DOC_IDS.some((docId) => {
      const server = (sim.handlers.get(docId) as DocSyncHandler).doc;
      const a = sim.clients.get('a')?.get(docId) as Y.Doc;
      return JSON.stringify(contentOf(a)) !== JSON.stringify(contentOf(server));
    });
    expect(diverged).toBe(true);
    sim.startSync('a');
    sim.drain();
    sim.startSync('b');
    sim.drain();
    for (const docId of DOC_IDS) {
      const server = (sim.handlers.get(docId) as DocSyncHandler).doc;
      expect(contentOf(sim.clients.get('a')?.get(docId) as Y.Doc)).toEqual(contentOf(server));
      expect(contentOf(sim.clients.get('b')?.get(docId) as Y.Doc)).toEqual(contentOf(server));
    }
  });
});
