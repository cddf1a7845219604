import fc from 'fast-check';
import { createFileMetadata, WorkspaceCrdt } from '../src';

type Op =
  | { kind: 'create'; name: number; dir: number }
  | { kind: 'modify'; pick: number; title: string }
  | { kind: 'delete'; pick: number }
  | { kind: 'rename'; pick: number; name: number }
  | { kind: 'sync' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), name: fc.nat(30), dir: fc.nat(2) }),
  fc.record({ kind: fc.constant('modify' as const), pick: fc.nat(), title: fc.string({ maxLength: 5 }) }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('rename' as const), pick: fc.nat(), name: fc.nat(30) }),
  fc.constant({ kind: 'sync' as const }),
);

/**
 * A replica that only follows the change reports of applyUpdate (like a disk writer) must end up
 * with exactly the live files of its CRDT.
 */
test('change reports are complete: a follower of the reports matches the live file set', () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
      const a = new WorkspaceCrdt();
      const b = new WorkspaceCrdt();
      const disk = new Set<string>();
      let clock = 1_000_000;
      const sync = (): void => {
        const c = b.applyUpdate(a.encodeStateAsUpdate(b.getSyncState()));
        for (const r of c.renamed) {
          expect(disk.has(r.from)).toBe(true);
          disk.delete(r.from);
          disk.add(r.to);
        }
        for (const p of c.deleted) disk.delete(p);
        for (const p of [...c.created, ...c.restored]) disk.add(p);
        for (const p of c.modified) expect(disk.has(p)).toBe(true);
        expect([...disk].sort()).toEqual(b.listFiles().map((f) => f.path));
      };
      for (const op of ops) {
        const live = a.listFiles().map((f) => f.path);
        clock += 10_000;
        if (op.kind === 'create') {
          a.setFile(
            `d${op.dir}/f${op.name}.md`,
            createFileMetadata({ title: `t${op.name}`, modified_at: clock }),
          );
        } else if (op.kind === 'sync') {
          sync();
        } else if (live.length > 0) {
          const path = live[op.pick % live.length];
          if (op.kind === 'modify')
            a.setFile(path, { ...a.getFile(path)!, title: op.title, modified_at: clock });
          else if (op.kind === 'delete') a.deleteFile(path);
          else {
            const target = `${path.slice(0, path.lastIndexOf('/'))}/r${op.name}.md`;
            if (!a.getFile(target) || a.getFile(target)!.deleted) {
              const m = a.getFile(path)!;
              a.doc.transact(() => {
                a.deleteFile(path);
                a.setFile(target, { ...m, modified_at: clock });
              });
            }
          }
        }
      }
      sync();
    }),
    { numRuns: Number(process.env.FC_RUNS ?? 100) },
  );
});
