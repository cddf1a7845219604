/**
 * The rebuild path of self-healing against real PostgreSQL (docs/self-healing.md): generated
 * workspaces, acknowledged edits after a good commit, undecodable update rows (and a snapshot that
 * fails to apply) → rebuild → every acknowledged body text is still there, the CRDT loads again,
 * validation passes and commits resume.
 */
import fc from 'fast-check';
import { AuditLog } from '@diaryx-sync/git-store';
import { HistoryQueues } from '@diaryx-sync/bus';
import { readDocState } from '@diaryx-sync/crdt';
import { createRedis } from '@diaryx-sync/runtime';
import { startWorkerApp, type WorkerApp } from '../src/worker-app';
import type { ApplyUpdate } from '../src/jobs/job-context';
import { createWorkerTestEnv, type WorkerTestEnv } from './helpers/worker-env';
import { editWorkspace, getBody, setBody } from './helpers/workspace-seed';
import { until } from './helpers/until';

const T = 'tenant-rebuild';

const line = fc.stringMatching(/^[a-z ]{1,10}$/);
const scenarioArb = fc.record({
  files: fc.array(line, { minLength: 1, maxLength: 4 }),
  edits: fc.array(fc.record({ pick: fc.nat(), text: line }), { minLength: 1, maxLength: 8 }),
  badRows: fc.array(fc.record({ pick: fc.nat(), bytes: fc.uint8Array({ minLength: 3, maxLength: 40 }) }), {
    minLength: 1,
    maxLength: 3,
  }),
  badSnapshot: fc.boolean(),
});

describe('rebuild of an unreadable CRDT (PostgreSQL, BullMQ, s3rver)', () => {
  let env: WorkerTestEnv;
  let app: WorkerApp;
  let queues: HistoryQueues;

  beforeAll(async () => {
    env = await createWorkerTestEnv();
    const applyUpdate: ApplyUpdate = async (req) => {
      await env.storage(req.tenant).appendUpdate(req.docId, req.update, { origin: req.origin });
    };
    app = await startWorkerApp(env.config(), { applyUpdate });
    queues = new HistoryQueues({
      connect: () => createRedis({ kind: 'single', url: 'redis://127.0.0.1:6379' }),
      prefix: env.prefix,
      quietMs: 60_000,
      maxWaitMs: 60_000,
    });
  });

  afterAll(async () => {
    await queues?.close();
    await app?.close();
    await env?.close();
  });

  it('keeps every acknowledged body text that can still be read', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (sc) => {
        const WS = `ws${n++}`;
        const storage = env.storage(T);
        const paths = sc.files.map((_, i) => `f${i}.md`);
        await editWorkspace(storage, WS, (w) => {
          w.setFile('README.md', { title: 'Home', contents: paths, modified_at: 1_700_000_000_000 });
          for (const p of paths) w.setFile(p, { part_of: 'README.md', modified_at: 1_700_000_000_000 });
        });
        const expected = new Map<string, string>([['README.md', '# Home\n']]);
        sc.files.forEach((t, i) => expected.set(paths[i], `${t}\n`));
        for (const [p, t] of expected) await setBody(storage, WS, p, t);
        expect(await queues.commitNow(T, WS)).toMatchObject({ status: 'committed' });

        // acknowledged edits after the commit
        const edited = new Set<string>();
        for (const e of sc.edits) {
          const p = paths[e.pick % paths.length];
          expected.set(p, `${expected.get(p)}${e.text}\n`);
          await setBody(storage, WS, p, expected.get(p)!);
          edited.add(p);
        }
        // faults: undecodable rows; a lost snapshot of a body that was not edited since the commit
        const docs = [`workspace:${WS}`, ...[...expected.keys()].map((p) => `body:${WS}/${p}`)];
        for (const r of sc.badRows) {
          await storage.appendUpdate(docs[r.pick % docs.length], Uint8Array.from([0xff, 0xff, ...r.bytes]), {
            origin: 'disk-rot',
          });
        }
        const unedited = paths.find((p) => !edited.has(p));
        if (sc.badSnapshot && unedited) {
          const doc = `body:${WS}/${unedited}`;
          const rows = await storage.getAllUpdates(doc);
          await storage.saveDoc(doc, (await readDocState(storage, doc)).state!);
          await storage.dropUpdates(
            doc,
            rows.map((u) => u.id),
          );
          await env.pool.query(`UPDATE crdt_snapshots SET snapshot = $1 WHERE tenant = $2 AND doc = $3`, [
            Buffer.from('garbage snapshot'),
            T,
            doc,
          ]);
        }

        // heal
        expect(await queues.commitNow(T, WS)).toMatchObject({
          status: 'validation_failed',
          action: 'rebuild',
        });
        const row = await until(
          async () => (await new AuditLog(env.pool).list({ tenant: T, workspace: WS, event: 'rebuild' }))[0],
          60_000,
        );
        expect(row.details).toMatchObject({ readable: true, valid: true });

        // every acknowledged text, every doc readable, valid, commits resume
        for (const [p, t] of expected) expect(await getBody(storage, WS, p)).toBe(t);
        for (const d of docs) expect((await readDocState(storage, d)).damage).toBeNull();
        expect(await queues.validateNow(T, WS)).toEqual({ ok: true, issues: [] });
        expect((await queues.commitNow(T, WS)).status).toMatch(/^(committed|nothing_to_commit)$/);
      }),
      { numRuns: 8 },
    );
  }, 300_000);
});
