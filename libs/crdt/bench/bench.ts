/**
 * libs/crdt benchmark: `npm run bench -w @diaryx-sync/crdt`.
 *
 * - materialize / parse a workspace of 1,000 files with 5 KB bodies;
 * - the repair pass every commit runs first (`planRepairs`, docs/self-healing.md) on that
 *   workspace, healthy and with 50 broken parents + 50 orphan bodies;
 * - one doc with 10,000 small updates in PostgreSQL (DATABASE_URL, isolated schema):
 *   load (snapshot + updates), Y.mergeUpdates vs apply-into-Y.Doc, and compact.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import * as Y from 'yjs';
import {
  createFileMetadata,
  materializeWorkspace,
  parseMarkdownFiles,
  planRepairs,
  type BodyInfo,
  WorkspaceCrdt,
} from '../src';
import { PostgresStorage } from '../src/postgres';
import { mergeIntoState } from '../src/storage/merge';

const FILES = 1000;
const BODY_BYTES = 5 * 1024;
const UPDATES = 10_000;
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time<T>(runs: number, fn: () => Promise<T> | T): Promise<{ ms: number; result: T }> {
  const samples: number[] = [];
  let result!: T;
  for (let i = 0; i < runs; i++) {
    (global as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    result = await fn();
    samples.push(performance.now() - t0);
  }
  return { ms: median(samples), result };
}

function report(name: string, ms: number, extra = ''): void {
  console.log(`${name.padEnd(48)} ${ms.toFixed(1).padStart(9)} ms${extra ? `  ${extra}` : ''}`);
}

async function benchMarkdown(): Promise<void> {
  const ws = new WorkspaceCrdt();
  const bodies = new Map<string, string>();
  const line = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit — ünïcødé 日本語 😀.\n';
  const body = line.repeat(Math.ceil(BODY_BYTES / Buffer.byteLength(line))).slice(0, BODY_BYTES);
  ws.setFile('README.md', createFileMetadata({ title: 'Root', contents: [], modified_at: Date.now() }));
  const children: string[] = [];
  for (let i = 0; i < FILES - 1; i++) {
    const path = `folder${i % 20}/note-${i}.md`;
    children.push(path);
    ws.setFile(
      path,
      createFileMetadata({
        title: `Note ${i}`,
        part_of: 'README.md',
        audience: ['public'],
        description: `Description of note ${i}`,
        extra: { tags: ['a', 'b'], rating: i % 5 },
        modified_at: Date.now() - i * 1000,
      }),
    );
    bodies.set(path, body);
  }
  ws.setFile('README.md', createFileMetadata({ title: 'Root', contents: children, modified_at: Date.now() }));
  bodies.set('README.md', '# Root\n');
  const mat = await time(RUNS, () => materializeWorkspace(ws, bodies));
  const totalBytes = mat.result.reduce((n, f) => n + Buffer.byteLength(f.content), 0);
  report(`materialize ${FILES} files x 5 KB`, mat.ms, `(${(totalBytes / 1e6).toFixed(1)} MB of markdown)`);
  const parse = await time(RUNS, () => parseMarkdownFiles(mat.result));
  if (parse.result.files.size !== FILES) throw new Error('parse lost files');
  report(`parse ${FILES} files x 5 KB`, parse.ms);

  // The repair pass of every commit: nothing to repair, then 50 broken parents + 50 orphans.
  const infos = new Map<string, BodyInfo>([...bodies].map(([p, text]) => [p, { text, firstUpdateAt: null }]));
  const healthy = await time(RUNS, () => planRepairs(ws, infos, Date.now()));
  if (healthy.result.repairs.length !== 0) throw new Error('healthy workspace got repairs');
  report(`planRepairs ${FILES} files, nothing to repair`, healthy.ms);
  const broken = WorkspaceCrdt.fromUpdate(ws.encodeStateAsUpdate());
  const faulty = new Map(infos);
  for (let i = 0; i < 50; i++) {
    broken.setFile(children[i], { ...broken.getFile(children[i])!, part_of: `gone/${i}.md` });
    faulty.set(`orphan-${i}.md`, { text: body, firstUpdateAt: null });
  }
  const repaired = await time(RUNS, () => planRepairs(broken, faulty, Date.now()));
  if (repaired.result.repairs.length !== 100 || repaired.result.remaining.length !== 0)
    throw new Error('repair bench: unexpected plan');
  report(`planRepairs ${FILES} files, 100 repairs`, repaired.ms);

  // A replica applying 200 single-file edits of that workspace, with change reports.
  const replica = WorkspaceCrdt.fromUpdate(ws.encodeStateAsUpdate());
  const edits: Uint8Array[] = [];
  const off = ws.onUpdate((u) => edits.push(u));
  for (let i = 0; i < 200; i++)
    ws.setFile(children[i], { ...ws.getFile(children[i])!, title: `Edited ${i}` });
  off();
  const t0 = performance.now();
  for (const u of edits) replica.applyUpdate(u);
  report(`WorkspaceCrdt.applyUpdate (${FILES} files), per update`, (performance.now() - t0) / edits.length);
}

async function benchPostgres(): Promise<void> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_crdt_${randomBytes(4).toString('hex')}`;
  const admin = new Pool({ connectionString: url, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const pool = new Pool({ connectionString: url, max: 4, options: `-c search_path=${schema}` });
  try {
    const storage = await PostgresStorage.open({ pool, tenant: 'bench' });
    const doc = 'body:ws1/big.md';
    const writer = new Y.Doc();
    const updates: Uint8Array[] = [];
    writer.on('update', (u: Uint8Array) => updates.push(u));
    const text = writer.getText('body');
    for (let i = 0; i < UPDATES; i++) {
      // typing with occasional deletes, at varying positions
      if (i % 10 === 9 && text.length > 2) text.delete(Math.floor(text.length / 2), 1);
      else text.insert(i % 7 === 0 ? 0 : text.length, String.fromCharCode(97 + (i % 26)));
    }
    const t0 = performance.now();
    for (let i = 0; i < updates.length; i += 1000) {
      await storage.batchAppendUpdates(updates.slice(i, i + 1000).map((data) => ({ doc, data })));
    }
    report(`append ${UPDATES} updates (batches of 1000)`, performance.now() - t0);

    const load = await time(RUNS, () => storage.loadDoc(doc));
    const check = new Y.Doc();
    Y.applyUpdate(check, load.result as Uint8Array);
    if (check.getText('body').toString() !== text.toString()) throw new Error('load mismatch');
    report(`loadDoc: ${UPDATES} updates, no snapshot`, load.ms, `(${load.result?.length} bytes state)`);

    const rows = await pool.query<{ data: Buffer }>(
      'SELECT data FROM crdt_updates WHERE doc = $1 ORDER BY id',
      [doc],
    );
    const parts = rows.rows.map((r) => r.data);
    const fetch = await time(RUNS, () =>
      pool.query('SELECT data FROM crdt_updates WHERE doc = $1 ORDER BY id', [doc]),
    );
    report('  of which: SELECT of the rows', fetch.ms);
    const viaDoc = await time(RUNS, () => mergeIntoState(parts));
    report('  merge: apply into one Y.Doc (used)', viaDoc.ms, `(${viaDoc.result?.length} bytes)`);
    const viaMerge = await time(RUNS, () => Y.mergeUpdates(parts));
    report('  merge: Y.mergeUpdates (alternative)', viaMerge.ms, `(${viaMerge.result.length} bytes)`);

    // compaction is destructive: measure it on 3 copies of the doc and take the median
    const samples: number[] = [];
    for (let copy = 0; copy < 3; copy++) {
      const other = copy === 0 ? doc : `${doc}.copy${copy}`;
      if (copy > 0) {
        for (let i = 0; i < updates.length; i += 1000) {
          await storage.batchAppendUpdates(updates.slice(i, i + 1000).map((data) => ({ doc: other, data })));
        }
      }
      const t = performance.now();
      await storage.compact(other, 0);
      samples.push(performance.now() - t);
    }
    report(`compact ${UPDATES} updates -> snapshot (median of 3)`, median(samples));
    const loadSnap = await time(RUNS, () => storage.loadDoc(doc));
    report('loadDoc after compaction (snapshot only)', loadSnap.ms);

    // snapshot + a tail of updates: the steady state of a busy doc
    for (let i = 0; i < 500; i++) text.insert(text.length, 'z');
    const tail = updates.slice(UPDATES);
    await storage.batchAppendUpdates(tail.map((data) => ({ doc, data })));
    const loadTail = await time(RUNS, () => storage.loadDoc(doc));
    report(`loadDoc: snapshot + ${tail.length} updates`, loadTail.ms);
  } finally {
    await pool.end();
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

async function main(): Promise<void> {
  console.log(`@diaryx-sync/crdt benchmark (node ${process.version}, median of ${RUNS} runs unless noted)`);
  await benchMarkdown();
  await benchPostgres();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
