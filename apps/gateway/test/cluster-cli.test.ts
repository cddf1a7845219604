/**
 * End-to-end tests of the `diaryx-sync` CLI (apps/cli, run as a REAL child process from
 * `apps/cli/dist/main.js`) against the REAL cluster: 2 gateways + 2 doc services on real Redis
 * and PostgreSQL (issue 4, "The CLI's pull, push and start against the running cluster").
 * Requires a build (`npm run build`, or `npx tsc -b apps/cli apps/gateway apps/doc-service`).
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { listInstances, shardOf } from '@diaryx-sync/bus';
import { createFileMetadata, parseMarkdownFiles, serializeFileMetadata } from '@diaryx-sync/crdt';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import * as Y from 'yjs';
import {
  REDIS_URL,
  type ServiceProcess,
  Sync2TestClient,
  bodyText,
  freePort,
  sleep,
  startCluster,
  waitUntil,
  type TestCluster,
  type TestTenant,
} from './helpers/cluster';
import {
  cleanupCli,
  readTree,
  runCli,
  spawnCli,
  tempDir,
  type CliProcess,
  type CliResult,
} from './helpers/cli';

jest.setTimeout(60_000);

let cluster: TestCluster;
let tenant: TestTenant;
let editor: string;
const clients: Sync2TestClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, docServices: 2 });
  tenant = await cluster.createTenant('cli-e2e');
  for (const ws of [
    'notes',
    'edits',
    'live',
    'other',
    'bulk',
    'offline',
    'concurrent',
    'many',
    'problems',
    'poisoned',
    'failover',
  ])
    await cluster.createWorkspace(tenant, ws);
  editor = await cluster.token({ tid: tenant.id, ws: ['*'], role: 'editor' });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await cleanupCli();
  await cluster?.stop();
  if (cluster) rmSync(cluster.logDir, { recursive: true, force: true });
}, 60_000);

/** `--server/--workspace/--token` for gateway `gateway`. */
function conn(workspace: string, token = editor, gateway = 0): string[] {
  return ['--server', cluster.ws(gateway), '--workspace', workspace, '--token', token];
}

/** Asserts a run ended with `code`, showing the output when it did not. */
function expectExit(r: CliResult, code: number): void {
  if (r.code !== code) {
    throw new Error(
      `expected exit ${code}, got ${r.code ?? r.signal}\n--- stdout ---\n${r.stdout}--- stderr ---\n${r.stderr}\n${cluster.logs(10)}`,
    );
  }
}

/** Writes `files` (path → content) under `root`, creating folders. */
function writeTree(root: string, files: Record<string, string>): void {
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), content);
  }
}

/** The persisted (PostgreSQL) state of a doc of the test tenant. */
async function persisted(docId: string): Promise<Y.Doc | null> {
  const state = await new PostgresStorage({ pool: cluster.pool, tenant: tenant.id }).loadDoc(docId);
  if (state === null) return null;
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  return doc;
}

/** The doc-service process owning the shard of `docId` (from the heartbeats in Redis). */
async function ownerOf(docId: string): Promise<ServiceProcess> {
  const shard = shardOf(tenant.id, docId, 16);
  const redis = new Redis(REDIS_URL);
  try {
    const owner = await waitUntil(
      async () =>
        (await listInstances(redis, cluster.prefix, 'doc-service')).find((h) =>
          (h.shards as number[] | undefined)?.includes(shard),
        ),
      10_000,
      `the owner of shard ${shard}`,
    );
    const proc = cluster.docServices.find((p) => p.env.DOC_SERVICE_ID === owner.id);
    if (proc === undefined) throw new Error(`no doc-service process with id ${owner.id}`);
    return proc;
  } finally {
    redis.disconnect();
  }
}

async function observer(gateway = 1): Promise<Sync2TestClient> {
  const c = await Sync2TestClient.connect(cluster.ws(gateway), editor);
  clients.push(c);
  return c;
}

/** A large body: a minimal push of a one-word edit must send far less than this. */
const LONG_BODY =
  Array.from({ length: 400 }, (_, i) => `Line ${i}: the quick brown fox jumps over the lazy dog.`).join(
    '\n',
  ) + '\n';

/** Files already in the canonical `@diaryx-sync/crdt` form, so a round trip is byte-exact. */
const CANONICAL: Record<string, string> = {
  'README.md': `---
title: Home
contents:
  - "[Day one](/journal/2024/day1.md)"
  - "[Ideas](/ideas.md)"
updated: 2024-01-02T03:04:05.006Z
---

# Welcome

Start at [Day one](/journal/2024/day1.md).
`,
  'journal/2024/day1.md': `---
title: Day one
part_of: "[Home](/README.md)"
audience:
  - me
  - family
description: "A rainy day: notes"
updated: 2024-01-01T10:00:00.000Z
mood: sunny
tags:
  - weather
  - rain
---

It rained. 🌧️ 日本語

- a list
- with items
`,
  'ideas.md': `---
title: Ideas
part_of: "[Home](/README.md)"
updated: 2024-02-03T00:00:00.000Z
---

${LONG_BODY}`,
  'journal/2024/empty-body.md': `---
title: Nothing yet
updated: 2024-03-04T05:06:07.008Z
---

`,
};

describe('push and pull (real processes)', () => {
  test('push a nested folder with frontmatter, pull it into another folder: byte-equal, persisted before exit', async () => {
    const src = tempDir('push');
    writeTree(src, CANONICAL);
    writeTree(src, { 'notes.txt': 'not markdown', '.hidden/secret.md': 'hidden' });

    const push = await runCli(['push', src, ...conn('notes'), '--no-progress']);
    expectExit(push, 0);
    expect(push.stderr).toBe('');
    expect(push.stdout).toMatch(
      /pushed 4 files to workspace notes \(4 created, 0 updated, 0 deleted, 0 unchanged\); \d+ documents saved/,
    );

    // `saved` was awaited before exit: PostgreSQL has every document now, no waiting.
    const ws = await persisted('workspace:notes');
    expect(ws).not.toBeNull();
    const files = ws!.getMap<string>('files');
    expect([...files.keys()].sort()).toEqual(Object.keys(CANONICAL).sort());
    expect(JSON.parse(files.get('journal/2024/day1.md')!)).toMatchObject({
      title: 'Day one',
      part_of: 'README.md',
      audience: ['me', 'family'],
      extra: { mood: 'sunny', tags: ['weather', 'rain'] },
      deleted: false,
    });
    expect((await persisted('body:notes/ideas.md'))?.getText('body').toString()).toBe(LONG_BODY);
    expect((await persisted('body:notes/journal/2024/day1.md'))?.getText('body').toString()).toBe(
      'It rained. 🌧️ 日本語\n\n- a list\n- with items\n',
    );

    // Pull through the OTHER gateway: exactly the same bytes.
    const dst = tempDir('pull');
    const pull = await runCli(['pull', dst, ...conn('notes', editor, 1)]);
    expectExit(pull, 0);
    expect(pull.stdout).toMatch(/pulled 4 files from workspace notes .*\(4 written, 0 unchanged\)/);
    expect(Object.fromEntries(readTree(dst))).toEqual(CANONICAL);

    // Pulling again writes nothing (settings from the environment, an http:// server URL);
    // pushing the pulled folder changes nothing.
    const again = await runCli(['pull', dst], 30_000, {
      DIARYX_SYNC_SERVER: cluster.http(0),
      DIARYX_SYNC_WORKSPACE: 'notes',
      DIARYX_SYNC_TOKEN: editor,
    });
    expectExit(again, 0);
    expect(again.stdout).toMatch(/\(0 written, 4 unchanged\)/);
    const noop = await runCli(['push', dst, ...conn('notes', editor, 1)]);
    expectExit(noop, 0);
    expect(noop.stdout).toMatch(/\(0 created, 0 updated, 0 deleted, 4 unchanged\)/);
  });

  test('push after local edits sends minimal changes, and they are saved before the process exits', async () => {
    const dir = tempDir('edits');
    writeTree(dir, {
      'long.md': `---\ntitle: Long\nupdated: 2024-01-01T00:00:00.000Z\n---\n\n${LONG_BODY}`,
      'same.md': '---\ntitle: Same\nupdated: 2024-01-01T00:00:00.000Z\n---\n\nunchanged body\n',
      'meta.md': '---\ntitle: Meta\nupdated: 2024-01-01T00:00:00.000Z\n---\n\nbody stays\n',
    });
    expectExit(await runCli(['push', dir, ...conn('edits')]), 0);

    // An observer on the other gateway records every update the cluster broadcasts.
    const obs = await observer(1);
    const docIds = ['workspace:edits', 'body:edits/long.md', 'body:edits/same.md', 'body:edits/meta.md'];
    const received = new Map<string, number[]>(docIds.map((id) => [id, []]));
    for (const id of docIds) {
      const doc = await obs.openSynced(id);
      doc.on('update', (u: Uint8Array) => received.get(id)!.push(u.byteLength));
    }

    // A concurrent edit inside the long body on a fork, made before the push (it must survive).
    const forkDoc = await obs.openSynced('body:edits/long.md');
    const fork = new Y.Doc();
    Y.applyUpdate(fork, Y.encodeStateAsUpdate(forkDoc));
    const forkBefore = Y.encodeStateVector(fork);
    fork.getText('body').insert(LONG_BODY.indexOf('Line 300:') + 'Line 300: the '.length, 'VERY ');

    // Local edits: one word in the long body, one metadata field; same.md untouched.
    const longPath = join(dir, 'long.md');
    writeFileSync(longPath, readFileSync(longPath, 'utf8').replace('Line 7: the quick', 'Line 7: the slow'));
    const metaPath = join(dir, 'meta.md');
    writeFileSync(metaPath, readFileSync(metaPath, 'utf8').replace('title: Meta', 'title: Meta v2'));

    const push = await runCli(['push', dir, ...conn('edits')]);
    expectExit(push, 0);
    expect(push.stdout).toMatch(/\(0 created, 2 updated, 0 deleted, 1 unchanged\)/);

    // Saved before exit: PostgreSQL already holds both edits.
    const longBody = (await persisted('body:edits/long.md'))!.getText('body').toString();
    expect(longBody).toBe(LONG_BODY.replace('Line 7: the quick', 'Line 7: the slow'));
    const meta = JSON.parse(
      (await persisted('workspace:edits'))!.getMap<string>('files').get('meta.md')!,
    ) as { title: string };
    expect(meta.title).toBe('Meta v2');

    // Minimal: the observer got small updates for the two changed docs only.
    await obs.waitFor(
      () => bodyText(obs.docs.get('body:edits/long.md')!) === longBody,
      10_000,
      'observer sees the body edit',
    );
    await sleep(300);
    const bytes = (id: string) => received.get(id)!.reduce((a, b) => a + b, 0);
    expect(received.get('body:edits/same.md')).toEqual([]);
    expect(received.get('body:edits/meta.md')).toEqual([]);
    expect(received.get('body:edits/long.md')!.length).toBeGreaterThan(0);
    expect(bytes('body:edits/long.md')).toBeLessThan(200); // the body is ~22 kB
    expect(received.get('workspace:edits')!.length).toBeGreaterThan(0);
    expect(bytes('workspace:edits')).toBeLessThan(1_000);

    // The untouched text kept its CRDT identity: the concurrent insert lands where it was made.
    Y.applyUpdate(obs.docs.get('body:edits/long.md')!, Y.encodeStateAsUpdate(fork, forkBefore));
    await obs.save('body:edits/long.md');
    const merged = (await persisted('body:edits/long.md'))!.getText('body').toString();
    expect(merged).toContain('Line 7: the slow brown fox');
    expect(merged).toContain('Line 300: the VERY quick brown fox');
  });
});

describe('push and pull: deletes, concurrency, many files', () => {
  test('push --delete tombstones missing files; pull --delete removes stray local files', async () => {
    const dir = tempDir('delete');
    writeTree(dir, { 'keep.md': 'keep\n', 'drop.md': 'drop\n', 'sub/gone.md': 'gone\n' });
    expectExit(await runCli(['push', dir, ...conn('bulk')]), 0);
    rmSync(join(dir, 'drop.md'));
    rmSync(join(dir, 'sub'), { recursive: true });
    const plain = await runCli(['push', dir, ...conn('bulk')]);
    expectExit(plain, 0);
    expect(plain.stdout).toMatch(/\(0 created, 0 updated, 0 deleted, 1 unchanged\)/);
    const del = await runCli(['push', dir, ...conn('bulk', editor, 1), '--delete']);
    expectExit(del, 0);
    expect(del.stdout).toMatch(/\(0 created, 0 updated, 2 deleted, 1 unchanged\)/);
    const files = (await persisted('workspace:bulk'))!.getMap<string>('files');
    expect(JSON.parse(files.get('drop.md')!)).toMatchObject({ deleted: true });
    expect(JSON.parse(files.get('sub/gone.md')!)).toMatchObject({ deleted: true });

    const dst = tempDir('delete-pull');
    writeTree(dst, {
      'stray.md': 'not in the workspace\n',
      'sub/old.md': 'old\n',
      'other.txt': 'left alone',
    });
    const pull = await runCli(['pull', dst, ...conn('bulk'), '--delete']);
    expectExit(pull, 0);
    expect(pull.stdout).toMatch(/pulled 1 files .*\(1 written, 0 unchanged, 2 deleted\)/);
    expect([...readTree(dst).keys()].sort()).toEqual(['keep.md', 'other.txt']);
  });

  test('two pushes at once through two gateways into one workspace: nothing is lost', async () => {
    const one = tempDir('concurrent1');
    const two = tempDir('concurrent2');
    const names = (tag: string) => Array.from({ length: 20 }, (_, i) => `${tag}/note-${i}.md`);
    writeTree(one, Object.fromEntries(names('one').map((p) => [p, `from one: ${p}\n`])));
    writeTree(two, Object.fromEntries(names('two').map((p) => [p, `from two: ${p}\n`])));
    // A file both sides create: whichever order the cluster sees, one clean file results.
    writeTree(one, { 'shared.md': 'written by one\n' });
    writeTree(two, { 'shared.md': 'written by two\n' });
    const [r1, r2] = await Promise.all([
      runCli(['push', one, ...conn('concurrent', editor, 0)]),
      runCli(['push', two, ...conn('concurrent', editor, 1)]),
    ]);
    expectExit(r1, 0);
    expectExit(r2, 0);
    const dst = tempDir('concurrent-pull');
    expectExit(await runCli(['pull', dst, ...conn('concurrent')]), 0);
    const tree = readTree(dst);
    for (const p of [...names('one'), ...names('two')])
      expect(tree.get(p)).toMatch(new RegExp(`\\n\\nfrom (one|two): ${p}\\n$`));
    expect(tree.size).toBe(41);
    // Sequential pushes: the later one wins; truly concurrent ones: Yjs keeps both insertions.
    const shared = parseMarkdownFiles([{ path: 'shared.md', content: tree.get('shared.md')! }]).bodies.get(
      'shared.md',
    );
    const clean =
      shared === 'written by one\n' ||
      shared === 'written by two\n' ||
      (shared!.includes('written by one\n') && shared!.includes('written by two\n'));
    expect({ shared, clean }).toEqual({ shared, clean: true });
  });

  test('push warns (one line each) about files it cannot sync, pushes the rest, and exits promptly', async () => {
    const dir = tempDir('problems');
    const long = `${'a'.repeat(130)}/${'b'.repeat(130)}.md`; // path > 185 bytes (docs/protocol.md#paths)
    writeTree(dir, {
      [long]: 'too long to be a doc id\n',
      'bad-yaml.md': '---\ntitle: [unclosed\n---\n\nbody\n',
      'fine.md': '---\ntitle: Fine\nupdated: 2024-01-01T00:00:00.000Z\n---\n\nfine\n',
    });
    const push = await runCli(['push', dir, ...conn('problems')], 15_000);
    expectExit(push, 0);
    expect(push.ms).toBeLessThan(10_000);
    const lines = push.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^warning: bad-yaml\.md: invalid YAML frontmatter: /),
      expect.stringMatching(
        new RegExp(`^warning: ${long.replace('.', '\\.')}: .*longer than 185 UTF-8 bytes`),
      ),
    ]);
    expect(push.stdout).toMatch(/\(2 created, 0 updated/);
    const dst = tempDir('problems-pull');
    expectExit(await runCli(['pull', dst, ...conn('problems')]), 0);
    expect([...readTree(dst).keys()].sort()).toEqual(['bad-yaml.md', 'fine.md']);
    // The unparsable frontmatter is kept as body text, not lost.
    expect(readTree(dst).get('bad-yaml.md')).toMatch(/\n\n---\ntitle: \[unclosed\n---\n\nbody\n$/);
  });

  test('an entry stored with a path too long for a doc id breaks neither pull nor start', async () => {
    // Stored before the safe-name rules (the sockets now refuse a new entry like it: close 4400).
    const storage = new PostgresStorage({ pool: cluster.pool, tenant: tenant.id });
    const wsDoc = new Y.Doc();
    const files = wsDoc.getMap<string>('files');
    const entry = (title: string) =>
      serializeFileMetadata(
        createFileMetadata({
          filename: `${title}.md`,
          title,
          modified_at: Date.parse('2024-01-01T00:00:00.000Z'),
        }),
      );
    files.set(`${'a'.repeat(130)}/${'b'.repeat(130)}.md`, entry('long'));
    files.set('ok.md', entry('ok'));
    const body = new Y.Doc();
    body.getText('body').insert(0, 'still readable\n');
    await storage.appendUpdate('workspace:poisoned', Y.encodeStateAsUpdate(wsDoc));
    await storage.appendUpdate('body:poisoned/ok.md', Y.encodeStateAsUpdate(body));

    const dst = tempDir('poisoned');
    const pull = await runCli(['pull', dst, ...conn('poisoned')], 20_000);
    expectExit(pull, 0);
    expect(readTree(dst).get('ok.md')).toMatch(/\n\nstill readable\n$/);
    const start = spawnCli(['start', tempDir('poisoned-start'), ...conn('poisoned'), '--debounce', '100']);
    await start.waitForStdout(/watching /, 20_000);
    await sleep(500);
    const end = await start.stop('SIGINT');
    expect(end.code).toBe(0);
    expect(end.stderr).toBe('');
  });

  test('push and pull 200 files (timing printed)', async () => {
    const src = tempDir('many');
    const files: Record<string, string> = {};
    for (let i = 0; i < 200; i++) {
      files[`many/${String(i % 10)}/file-${i}.md`] =
        `---\ntitle: File ${i}\nupdated: 2024-05-01T00:00:00.000Z\nindex: ${i}\n---\n\n${'text '.repeat(40)}${i}\n`;
    }
    writeTree(src, files);
    const push = await runCli(['push', src, ...conn('many')]);
    expectExit(push, 0);
    expect(push.stdout).toMatch(/\(200 created, 0 updated, 0 deleted, 0 unchanged\); 201 documents saved/);
    const dst = tempDir('many-pull');
    const pull = await runCli(['pull', dst, ...conn('many', editor, 1)]);
    expectExit(pull, 0);
    expect(Object.fromEntries(readTree(dst))).toEqual(files);
    console.log(
      `diaryx-sync against the cluster: push 200 files ${push.ms} ms, pull 200 files ${pull.ms} ms (process start included)`,
    );
  });
});

describe('start: two folders, two gateways, one workspace', () => {
  let a: CliProcess | undefined;
  let b: CliProcess | undefined;

  afterAll(async () => {
    await a?.stop('SIGKILL');
    await b?.stop('SIGKILL');
  });

  test('edits, new files, renames and deletes in one folder show up in the other', async () => {
    const seed = tempDir('seed');
    writeTree(seed, {
      'a.md': '---\ntitle: A\nupdated: 2024-01-01T00:00:00.000Z\n---\n\nalpha\n',
      'b.md': '---\ntitle: B\nupdated: 2024-01-01T00:00:00.000Z\n---\n\nbravo\n',
      'folder/c.md': '---\ntitle: C\nupdated: 2024-01-01T00:00:00.000Z\n---\n\ncharlie\n',
    });
    expectExit(await runCli(['push', seed, ...conn('live')]), 0);

    const dirA = tempDir('startA');
    const dirB = tempDir('startB');
    a = spawnCli(['start', dirA, ...conn('live', editor, 0), '--debounce', '100']);
    b = spawnCli(['start', dirB, ...conn('live', editor, 1), '--debounce', '100']);
    await a.waitForStdout(/watching .* \(3 files; 0 imported, 3 written\)/, 20_000);
    await b.waitForStdout(/watching .* \(3 files; 0 imported, 3 written\)/, 20_000);
    expect(readTree(dirA)).toEqual(readTree(seed));
    expect(readTree(dirB)).toEqual(readTree(seed));

    const fileB = (p: string) =>
      existsSync(join(dirB, p)) ? readFileSync(join(dirB, p), 'utf8') : undefined;
    const until = (what: string, check: () => boolean) =>
      waitUntil(check, 15_000, what).catch((err: Error) => {
        throw new Error(
          `${err.message}\n${a!.describe()}\n${b!.describe()}\nB: ${JSON.stringify(Object.fromEntries(readTree(dirB)))}`,
        );
      });

    // 1. A local edit (body and metadata) in A.
    const edited = '---\ntitle: A edited\nupdated: 2024-01-01T00:00:00.000Z\n---\n\nalpha, edited in A\n';
    writeFileSync(join(dirA, 'a.md'), edited);
    await until('the edit reaches B', () => /alpha, edited in A\n$/.test(fileB('a.md') ?? ''));
    expect(fileB('a.md')).toContain('title: A edited');

    // 2. A new file in a new nested folder.
    writeTree(dirA, { 'new/deep/n.md': '---\ntitle: New\n---\n\nbrand new\n' });
    await until('the new file reaches B', () =>
      /title: New\n[\s\S]*\n\nbrand new\n$/.test(fileB('new/deep/n.md') ?? ''),
    );

    // 3. A rename (same body, new path).
    mkdirSync(join(dirA, 'moved'));
    renameSync(join(dirA, 'b.md'), join(dirA, 'moved/b2.md'));
    await until(
      'the rename reaches B',
      () => fileB('b.md') === undefined && /\n\nbravo\n$/.test(fileB('moved/b2.md') ?? ''),
    );
    expect(a.stdout).toMatch(/renamed b\.md → moved\/b2\.md/);

    // 4. A delete.
    rmSync(join(dirA, 'folder/c.md'));
    await until('the delete reaches B', () => fileB('folder/c.md') === undefined);
    expect(existsSync(join(dirB, 'folder'))).toBe(false);

    // 5. And back: an edit in B reaches A.
    const b2 = join(dirB, 'moved/b2.md');
    writeFileSync(b2, readFileSync(b2, 'utf8').replace('bravo', 'bravo, edited in B after the rename'));
    await until('the edit in B reaches A', () =>
      (existsSync(join(dirA, 'moved/b2.md')) ? readFileSync(join(dirA, 'moved/b2.md'), 'utf8') : '').includes(
        'edited in B after',
      ),
    );

    // Both folders hold the same files with the same bodies; the workspace agrees (PostgreSQL).
    const bodies = (dir: string) =>
      parseMarkdownFiles([...readTree(dir)].map(([path, content]) => ({ path, content }))).bodies;
    await until(
      'both folders converge',
      () => JSON.stringify([...bodies(dirA)]) === JSON.stringify([...bodies(dirB)]),
    );
    expect([...bodies(dirA).keys()].sort()).toEqual(['a.md', 'moved/b2.md', 'new/deep/n.md']);
    const obs = await observer(0);
    await obs.openSynced('workspace:live');
    const live = [...obs.docs.get('workspace:live')!.getMap<string>('files')]
      .filter(([, json]) => !(JSON.parse(json) as { deleted: boolean }).deleted)
      .map(([p]) => p)
      .sort();
    expect(live).toEqual(['a.md', 'moved/b2.md', 'new/deep/n.md']);

    // Ctrl-C ends `start` cleanly.
    const endA = await a.stop('SIGINT');
    const endB = await b.stop('SIGINT');
    expect(endA.code).toBe(0);
    expect(endB.code).toBe(0);
    expect(endA.stdout).toMatch(/stopped\n$/);
    expect(endA.stderr).toBe('');
    expect(endB.stderr).toBe('');
    // No echo: each side reported its own changes as local and the other's as remote, never
    // its own writes read back (B never "changed" a file A edited; A never "updated" its own).
    const lines = (out: string) => out.split('\n');
    expect(lines(endA.stdout)).toEqual(
      expect.arrayContaining(['changed a.md', 'added new/deep/n.md', 'deleted folder/c.md']),
    );
    expect(lines(endB.stdout)).toEqual(
      expect.arrayContaining(['updated a.md (remote)', 'deleted folder/c.md (remote)']),
    );
    expect(
      lines(endB.stdout).filter(
        (l) => !l.endsWith('(remote)') && /^(changed|added|renamed|deleted) /.test(l),
      ),
    ).toEqual(['changed moved/b2.md']);
    expect(lines(endA.stdout).filter((l) => l.endsWith('(remote)'))).toEqual([
      'updated moved/b2.md (remote)',
    ]);
  });
});

describe('start across a gateway restart', () => {
  test('start reconnects by itself; edits made while offline are delivered both ways', async () => {
    const dirA = tempDir('offlineA');
    const dirB = tempDir('offlineB');
    writeTree(dirA, { 'doc.md': '---\ntitle: Doc\nupdated: 2024-01-01T00:00:00.000Z\n---\n\nfirst line\n' });
    const a = spawnCli(['start', dirA, ...conn('offline', editor, 0), '--debounce', '100']);
    await a.waitForStdout(/watching .* \(1 files; 1 imported, 0 written\)/, 20_000);
    const b = spawnCli(['start', dirB, ...conn('offline', editor, 1), '--debounce', '100']);
    await b.waitForStdout(/watching .* \(1 files; 0 imported, 1 written\)/, 20_000);
    const read = (dir: string, p: string) =>
      existsSync(join(dir, p)) ? readFileSync(join(dir, p), 'utf8') : '';
    const until = (what: string, check: () => boolean, ms = 25_000) =>
      waitUntil(check, ms, what).catch((err: Error) => {
        throw new Error(`${err.message}\n${a.describe()}\n${b.describe()}\n${cluster.logs(10)}`);
      });

    // B's gateway goes away (graceful drain); B keeps trying.
    const t0 = Date.now();
    await cluster.gateways[1]!.stop();
    await b.waitForStdout(/reconnecting \(attempt \d+\)/, 10_000);
    expect(b.running).toBe(true);

    // Meanwhile: a new file in B (offline) and an edit in A (online).
    writeTree(dirB, { 'offline/made-offline.md': 'written while offline\n' });
    writeFileSync(
      join(dirA, 'doc.md'),
      read(dirA, 'doc.md').replace('first line', 'first line\nsecond line from A'),
    );
    await sleep(400); // past the debounce: both edits are in the local CRDTs

    await cluster.gateways[1]!.start();
    await cluster.waitReady();
    await until('the offline file reaches A', () =>
      /\n\nwritten while offline\n$/.test(read(dirA, 'offline/made-offline.md')),
    );
    await until('the edit made during the outage reaches B', () =>
      read(dirB, 'doc.md').includes('second line from A'),
    );
    console.log(
      `diaryx-sync start: healed ${Date.now() - t0} ms after its gateway was stopped (incl. ~restart)`,
    );

    const [endA, endB] = await Promise.all([a.stop('SIGINT'), b.stop('SIGINT')]);
    expect([endA.code, endB.code]).toEqual([0, 0]);
    expect(endA.stderr + endB.stderr).toBe('');
  });
});

describe('start across a doc-service crash', () => {
  test('SIGKILL of a doc service while two folders edit: every edit arrives and is durable', async () => {
    const dirA = tempDir('failA');
    const dirB = tempDir('failB');
    const a = spawnCli(['start', dirA, ...conn('failover', editor, 0), '--debounce', '100']);
    const b = spawnCli(['start', dirB, ...conn('failover', editor, 1), '--debounce', '100']);
    await a.waitForStdout(/watching /, 20_000);
    await b.waitForStdout(/watching /, 20_000);
    const until = (what: string, check: () => boolean) =>
      waitUntil(check, 30_000, what).catch((err: Error) => {
        throw new Error(`${err.message}\n${a.describe()}\n${b.describe()}\n${cluster.logs(10)}`);
      });

    // Kill the doc service that owns the workspace doc's shard.
    const victim = await ownerOf('workspace:failover');
    await victim.stop('SIGKILL');
    const t0 = Date.now();
    const expected = new Map<string, string>();
    for (let i = 0; i < 6; i++) {
      const [dir, side] = i % 2 === 0 ? [dirA, 'a'] : [dirB, 'b'];
      const p = `from-${side}/note-${i}.md`;
      writeTree(dir, { [p]: `note ${i} written by ${side} during the failover\n` });
      expected.set(p, `note ${i} written by ${side} during the failover\n`);
      await sleep(150);
    }
    const bodiesOf = (dir: string) =>
      parseMarkdownFiles([...readTree(dir)].map(([path, content]) => ({ path, content }))).bodies;
    const complete = (dir: string) => [...expected].every(([p, body]) => bodiesOf(dir).get(p) === body);
    await until('every edit reached both folders', () => complete(dirA) && complete(dirB));
    console.log(`diaryx-sync start: all edits converged ${Date.now() - t0} ms after a doc-service SIGKILL`);

    await victim.start();
    await cluster.waitReady();
    // Durable: a fresh pull (new connection, docs reloaded from PostgreSQL where needed) has them.
    const check = tempDir('failover-pull');
    expectExit(await runCli(['pull', check, ...conn('failover')]), 0);
    expect(complete(check)).toBe(true);
    const [endA, endB] = await Promise.all([a.stop('SIGINT'), b.stop('SIGINT')]);
    expect([endA.code, endB.code]).toEqual([0, 0]);
  });
});

describe('exit codes and one-line errors', () => {
  const oneLine = (r: CliResult) => r.stderr.trimEnd().split('\n');

  test('bad token → 3, unknown or inaccessible workspace → 4, unreachable server → 5', async () => {
    const dir = tempDir('errors');
    const forged = await new SignJWT({ tid: tenant.id, ws: ['*'], role: 'editor' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('mallory')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-cluster-secret'));
    const expired = await cluster.token({ tid: tenant.id, ttlSeconds: -60 });
    const onlyNotes = await cluster.token({ tid: tenant.id, ws: ['notes'] });
    const otherTenant = await cluster.createTenant('cli-e2e-other');
    const otherToken = await cluster.token({ tid: otherTenant.id });
    const deadPort = await freePort();

    const [bad, exp, garbage, unknown, notCovered, foreign, down] = await Promise.all([
      runCli(['pull', dir, ...conn('notes', forged)]),
      runCli(['push', dir, ...conn('notes', expired, 1)]),
      runCli(['pull', dir, ...conn('notes', 'not-a-jwt')]),
      runCli(['pull', dir, ...conn('no-such-workspace')]),
      runCli(['pull', dir, ...conn('other', onlyNotes, 1)]),
      runCli(['push', dir, ...conn('notes', otherToken)]),
      runCli([
        'pull',
        dir,
        '--server',
        `ws://127.0.0.1:${deadPort}`,
        '--workspace',
        'notes',
        '--token',
        editor,
        '--retries',
        '0',
      ]),
    ]);
    for (const r of [bad, exp, garbage]) {
      expectExit(r, 3);
      expect(oneLine(r)).toEqual([
        expect.stringMatching(/^diaryx-sync: error: token rejected by the server \((HTTP 401|4401)/),
      ]);
    }
    for (const r of [unknown, notCovered, foreign]) {
      expectExit(r, 4);
      expect(oneLine(r)).toEqual([
        expect.stringMatching(
          /^diaryx-sync: error: workspace not found or not accessible with this token \(4403/,
        ),
      ]);
    }
    expectExit(down, 5);
    expect(oneLine(down)).toEqual([
      expect.stringMatching(/^diaryx-sync: error: server unreachable after 1 attempt/),
    ]);
    // Nothing was written by the failed runs.
    expect(readTree(dir).size).toBe(0);
  });

  test('push with a viewer token → 3 and the workspace is unchanged', async () => {
    const viewer = await cluster.token({ tid: tenant.id, ws: ['notes'], role: 'viewer' });
    const dir = tempDir('viewer');
    writeTree(dir, { 'ideas.md': '---\ntitle: Hijacked\n---\n\nviewer text\n' });
    const r = await runCli(['push', dir, ...conn('notes', viewer, 1)]);
    expectExit(r, 3);
    expect(oneLine(r)).toEqual([
      expect.stringMatching(/^diaryx-sync: error: the token is read-only \(viewer\)/),
    ]);
    expect((await persisted('body:notes/ideas.md'))!.getText('body').toString()).toBe(LONG_BODY);
    const meta = JSON.parse(
      (await persisted('workspace:notes'))!.getMap<string>('files').get('ideas.md')!,
    ) as { title: string };
    expect(meta.title).toBe('Ideas');
  });
});
