import fc from 'fast-check';
import * as Y from 'yjs';
import {
  BodyDoc,
  checkedBodyPaths,
  DEFAULT_ORPHAN_GRACE_MS,
  planRepairs,
  validateWorkspace,
  WorkspaceCrdt,
  type BodyInfo,
} from '../src';

/** A server (what the shard persists) or a connected client: one workspace doc and its body docs. */
class Replica {
  ws = new WorkspaceCrdt();
  bodies = new Map<string, BodyDoc>();
  firstUpdateAt = new Map<string, number>();

  body(path: string, at: number): BodyDoc {
    let b = this.bodies.get(path);
    if (!b) {
      b = new BodyDoc(path);
      this.bodies.set(path, b);
      this.firstUpdateAt.set(path, at);
    }
    return b;
  }

  /** Two-way sync of every doc (what the y-sync protocol does for a connected client). */
  syncWith(other: Replica): void {
    const pair = (a: Y.Doc, b: Y.Doc): void => {
      Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
      Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
    };
    pair(this.ws.doc, other.ws.doc);
    for (const path of new Set([...this.bodies.keys(), ...other.bodies.keys()])) {
      pair(this.body(path, 0).doc, other.body(path, 0).doc);
    }
  }

  bodyInfo(): Map<string, BodyInfo> {
    return new Map(
      [...this.bodies].map(([p, b]) => [
        p,
        { text: b.getBody(), firstUpdateAt: this.firstUpdateAt.get(p) ?? null },
      ]),
    );
  }

  /** Body text of each live file (path, or key in doc-id mode). */
  liveBodies(): string[] {
    return this.ws
      .listFiles()
      .map((f) => (this.bodies.get(f.path) ?? this.bodies.get(f.key))?.getBody() ?? '');
  }
}

type Fault =
  | { kind: 'orphan'; name: number; text: string }
  | { kind: 'missing_body'; pick: number }
  | { kind: 'broken_parent'; pick: number }
  | { kind: 'delete_parent' }
  | { kind: 'missing_child' }
  | { kind: 'duplicate'; pick: number; other: number }
  | { kind: 'cycle'; pick: number; other: number };

const line = fc.string({ minLength: 1, maxLength: 12 }).map((s) => s.replace(/\n/g, ' '));
const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ kind: fc.constant('orphan' as const), name: fc.nat(50), text: line }),
  fc.record({ kind: fc.constant('missing_body' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('broken_parent' as const), pick: fc.nat() }),
  fc.constant({ kind: 'delete_parent' as const }),
  fc.constant({ kind: 'missing_child' as const }),
  fc.record({ kind: fc.constant('duplicate' as const), pick: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('cycle' as const), pick: fc.nat(), other: fc.nat() }),
);

const scenarioArb = fc.record({
  docIds: fc.boolean(),
  files: fc.array(fc.record({ folder: fc.boolean(), text: line }), { minLength: 1, maxLength: 8 }),
  edits: fc.array(fc.record({ pick: fc.nat(), text: line }), { maxLength: 12 }),
  faults: fc.array(faultArb, { minLength: 1, maxLength: 4 }),
  clientEdits: fc.array(fc.record({ pick: fc.nat(), text: line }), { maxLength: 3 }),
});

const T0 = 1_700_000_000_000;

/**
 * Generated workspaces (path or doc-id keys), acknowledged edits after a "commit", injected faults
 * → planRepairs → every body text that was acknowledged is still the body of a live file, no body
 * doc's text changed, validation passes, and a connected client that kept editing converges.
 */
test('repair in place keeps every acknowledged body text and leaves a valid workspace', () => {
  fc.assert(
    fc.property(scenarioArb, (sc) => {
      const server = new Replica();
      // a root index, a folder index, files under both
      server.ws.setFile('README.md', { title: 'Root', contents: [], modified_at: T0 });
      server.ws.setFile('notes/index.md', {
        title: 'Notes',
        part_of: 'README.md',
        contents: [],
        modified_at: T0,
      });
      const root = server.ws.getFile('README.md')!;
      server.ws.setFile('README.md', { ...root, contents: ['notes/index.md'] });
      server.body('README.md', T0).setBody('root\n');
      server.body('notes/index.md', T0).setBody('notes\n');
      const paths: string[] = [];
      sc.files.forEach((f, i) => {
        const parent = f.folder ? 'notes/index.md' : 'README.md';
        const path = f.folder ? `notes/f${i}.md` : `f${i}.md`;
        server.ws.setFile(path, { title: `F${i}`, part_of: parent, modified_at: T0 + i });
        const p = server.ws.getFile(parent)!;
        server.ws.setFile(parent, { ...p, contents: [...(p.contents ?? []), path] });
        server.body(path, T0).setBody(`${f.text}\n`);
        paths.push(path);
      });
      if (sc.docIds) server.ws.migrateToDocIds();
      // the key of each generated file, fixed before the faults (a fault may make a path unresolvable)
      const keys = new Map(
        [...paths, 'README.md', 'notes/index.md'].map((p) => [p, server.ws.findByPath(p)!]),
      );
      const keyOf = (path: string): string => keys.get(path)!;
      const pick = (n: number): string => paths[n % paths.length];

      // a client connected since the "commit"
      const client = new Replica();
      client.syncWith(server);

      // acknowledged edits after the commit
      let clock = T0 + 1000;
      for (const e of sc.edits) {
        const b = server.body(pick(e.pick), clock++);
        b.insertAt(b.getBody().length, `${e.text}\n`);
      }

      // faults
      for (const f of sc.faults) {
        const now = clock++;
        switch (f.kind) {
          case 'orphan':
            server.body(`typo-${f.name}.md`, T0).setBody(`${f.text}\n`);
            break;
          case 'missing_body': {
            const path = `new-${f.pick % 5}.md`;
            if (!server.ws.findByPath(path)) {
              if (sc.docIds) server.ws.createFile({ filename: path, modified_at: now });
              else server.ws.setFile(path, { modified_at: now });
            }
            break;
          }
          case 'broken_parent': {
            const key = keyOf(pick(f.pick));
            const m = server.ws.getFile(key);
            if (m)
              server.ws.setFile(key, {
                ...m,
                part_of: sc.docIds ? crypto.randomUUID() : 'gone/x.md',
                modified_at: now,
              });
            break;
          }
          case 'delete_parent': {
            // a raw tombstone of the folder index: its children keep pointing at it
            const key = keyOf('notes/index.md');
            const m = server.ws.getFile(key);
            if (m && !m.deleted) server.ws.setFile(key, { ...m, deleted: true, modified_at: now });
            break;
          }
          case 'missing_child': {
            const key = keyOf('README.md');
            const m = server.ws.getFile(key)!;
            server.ws.setFile(key, {
              ...m,
              contents: [...(m.contents ?? []), sc.docIds ? crypto.randomUUID() : 'ghost.md'],
              modified_at: now,
            });
            break;
          }
          case 'duplicate': {
            const a = keyOf(pick(f.pick));
            const bPath = pick(f.other);
            if (!a || pick(f.pick) === bPath) break;
            const m = server.ws.getFile(a)!;
            if (sc.docIds) {
              const b = server.ws.getFile(keyOf(bPath));
              if (!b) break;
              server.ws.setFile(a, { ...m, filename: b.filename, part_of: b.part_of, modified_at: now });
            } else {
              // mixed keys: a UUID entry resolving to an existing path
              server.ws.setFile(crypto.randomUUID(), {
                ...m,
                filename: bPath,
                part_of: null,
                modified_at: now,
              });
            }
            break;
          }
          case 'cycle': {
            const a = keyOf(pick(f.pick));
            const b = keyOf(pick(f.other));
            if (!a || !b || a === b) break;
            const ma = server.ws.getFile(a)!;
            const mb = server.ws.getFile(b)!;
            server.ws.setFile(a, { ...ma, part_of: b, modified_at: now });
            server.ws.setFile(b, { ...mb, part_of: a, modified_at: now + 1 });
            break;
          }
        }
      }

      // every acknowledged body text: bodies of live files and orphan bodies (a tombstoned
      // file's body is history, not a live text)
      const acknowledged = new Map(
        checkedBodyPaths(server.ws, server.bodies.keys()).map(
          (p) => [p, server.bodies.get(p)!.getBody()] as const,
        ),
      );
      const allBodies = new Map([...server.bodies].map(([p, b]) => [p, b.getBody()] as const));

      // the client keeps editing concurrently with the repair
      client.syncWith(server);
      const clientLines: [string, string][] = [];
      for (const e of sc.clientEdits) {
        const path = pick(e.pick);
        const b = client.bodies.get(path);
        if (!b) continue;
        b.insertAt(b.getBody().length, `client ${e.text}\n`);
        clientLines.push([path, `client ${e.text}\n`]);
      }

      // heal (well past every grace period)
      const now = clock + DEFAULT_ORPHAN_GRACE_MS * 10;
      const plan = planRepairs(server.ws, server.bodyInfo(), now);
      for (const [path, update] of plan.bodyUpdates) {
        expect(server.bodies.has(path)).toBe(false); // a repair only creates body docs
        server.body(path, now).applyUpdate(update);
      }
      if (plan.workspaceUpdate) server.ws.applyUpdate(plan.workspaceUpdate);
      expect(plan.remaining).toEqual([]);

      // no body doc's text changed
      for (const [path, text] of allBodies) expect(server.bodies.get(path)!.getBody()).toBe(text);
      // validation passes
      const report = validateWorkspace(server.ws, checkedBodyPaths(server.ws, server.bodies.keys()));
      expect(report.issues).toEqual([]);
      // every acknowledged text is the body of a live file
      const live = server.liveBodies();
      for (const [, text] of acknowledged) if (text !== '') expect(live).toContain(text);
      // nothing left to repair
      expect(planRepairs(server.ws, server.bodyInfo(), now + 1).repairs).toEqual([]);

      // the connected client converges, its concurrent edits included
      client.syncWith(server);
      expect(client.ws.listFiles().map((f) => [f.path, f.metadata])).toEqual(
        server.ws.listFiles().map((f) => [f.path, f.metadata]),
      );
      for (const [path, b] of server.bodies) expect(client.bodies.get(path)!.getBody()).toBe(b.getBody());
      // concurrent edits are never lost, and are visible wherever their doc is a live file's body
      // (edits to an orphan adopted meanwhile stay in the orphan's own doc: docs/self-healing.md)
      const livePaths = new Set(server.ws.listFiles().map((f) => f.path));
      for (const [path, l] of clientLines) {
        expect(server.bodies.get(path)!.getBody()).toContain(l);
        if (livePaths.has(path)) expect(server.liveBodies().join('')).toContain(l);
      }
    }),
    { numRuns: 200 },
  );
}, 180_000);

test('an orphan body is left alone during its grace period, then adopted under lost+found', () => {
  const ws = new WorkspaceCrdt();
  ws.setFile('README.md', { title: 'Root', contents: [], modified_at: T0 });
  const bodies = new Map<string, BodyInfo>([
    ['README.md', { text: 'root\n', firstUpdateAt: T0 }],
    ['nope.md', { text: 'typo text\n', firstUpdateAt: T0 + 10_000 }],
  ]);
  const young = planRepairs(ws, bodies, T0 + 20_000, { orphanGraceMs: 60_000 });
  expect(young).toMatchObject({
    repairs: [],
    workspaceUpdate: null,
    pendingOrphans: ['nope.md'],
    remaining: [],
  });

  const old = planRepairs(ws, bodies, T0 + 80_000, { orphanGraceMs: 60_000 });
  expect(old.repairs.map((r) => [r.kind, r.files])).toEqual([
    ['adopt_orphan', ['lost+found/nope.md', 'nope.md']],
  ]);
  const healed = WorkspaceCrdt.fromUpdate(ws.encodeStateAsUpdate());
  healed.applyUpdate(old.workspaceUpdate!);
  expect(healed.getFile('lost+found/nope.md')).toMatchObject({
    title: 'nope',
    part_of: 'README.md',
    deleted: false,
    extra: { recovered_from: 'nope.md' },
  });
  expect(healed.getFile('README.md')!.contents).toEqual(['lost+found/nope.md']);
  expect(healed.getFile('nope.md')).toMatchObject({ deleted: true });
  const copy = BodyDoc.fromUpdate('lost+found/nope.md', old.bodyUpdates.get('lost+found/nope.md')!);
  expect(copy.getBody()).toBe('typo text\n');
});

test('unknown age (compacted log) counts as past the grace period', () => {
  const ws = new WorkspaceCrdt();
  const plan = planRepairs(ws, new Map([['x.md', { text: 'x', firstUpdateAt: null }]]), T0);
  expect(plan.repairs.map((r) => r.kind)).toEqual(['adopt_orphan']);
});
