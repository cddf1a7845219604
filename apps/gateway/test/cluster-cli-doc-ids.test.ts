/**
 * The `diaryx-sync` CLI (a REAL child process from `apps/cli/dist/main.js`) on a DOC-ID workspace
 * (UUID keys, bodies named `body:{ws}/{uuid}`, docs/protocol.md#doc-ids) against the REAL cluster:
 * push, pull and start keep one entry per file, renames and moves are `filename` updates of the
 * same key while another client edits the body, and the workspace stays valid.
 * Requires a build (`npm run build`, or `npx tsc -b apps/cli apps/gateway apps/doc-service`).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDocIdKey, validateWorkspace, WorkspaceCrdt } from '@diaryx-sync/crdt';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import * as Y from 'yjs';
import {
  Sync2TestClient,
  bodyText,
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

jest.setTimeout(90_000);

let cluster: TestCluster;
let tenant: TestTenant;
let editor: string;
const clients: Sync2TestClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, docServices: 1 });
  tenant = await cluster.createTenant('cli-docids');
  for (const ws of ['docs', 'live', 'fresh']) await cluster.createWorkspace(tenant, ws);
  editor = await cluster.token({ tid: tenant.id, ws: ['*'], role: 'editor' });
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await cleanupCli();
  await cluster?.stop();
}, 60_000);

function conn(workspace: string, gateway = 0): string[] {
  return ['--server', cluster.ws(gateway), '--workspace', workspace, '--token', editor];
}

function expectExit(r: CliResult, code: number): void {
  if (r.code !== code) {
    throw new Error(
      `expected exit ${code}, got ${r.code ?? r.signal}\n${r.stdout}\n${r.stderr}\n${cluster.logs(10)}`,
    );
  }
}

/** A raw /sync2 client holding the workspace doc of `ws` as a WorkspaceCrdt (local writes are sent). */
async function rawWorkspace(
  ws: string,
  gateway = 1,
): Promise<{ client: Sync2TestClient; crdt: WorkspaceCrdt }> {
  const client = await Sync2TestClient.connect(cluster.ws(gateway), editor);
  clients.push(client);
  const doc = await client.openSynced(`workspace:${ws}`);
  return { client, crdt: new WorkspaceCrdt(doc) };
}

/** Opens the body doc `body:{ws}/{key}` on `client` and waits until its text holds `text`. */
async function body(client: Sync2TestClient, ws: string, key: string): Promise<Y.Doc> {
  return client.openSynced(`body:${ws}/${key}`);
}

/** The persisted workspace of `ws` and the names of its body docs (PostgreSQL). */
async function persistedWorkspace(ws: string): Promise<{ crdt: WorkspaceCrdt; bodies: string[] }> {
  const storage = new PostgresStorage({ pool: cluster.pool, tenant: tenant.id });
  const crdt = WorkspaceCrdt.fromUpdate(await storage.loadDoc(`workspace:${ws}`));
  const prefix = `body:${ws}/`;
  const bodies = (await storage.listDocs())
    .filter((d) => d.startsWith(prefix))
    .map((d) => d.slice(prefix.length));
  return { crdt, bodies };
}

/** Asserts: every key a UUID, no two live files at one path, every body named by a key, valid. */
async function expectCleanDocIdWorkspace(ws: string, paths: string[]): Promise<void> {
  await waitUntil(
    async () => {
      const { crdt } = await persistedWorkspace(ws);
      return JSON.stringify(crdt.listFiles().map((f) => f.path)) === JSON.stringify(paths);
    },
    20_000,
    `the persisted workspace ${ws} to list ${paths.join(', ')}`,
  ).catch(async (err: Error) => {
    const { crdt } = await persistedWorkspace(ws);
    throw new Error(`${err.message}: ${JSON.stringify(Object.fromEntries(crdt.files.entries()))}`);
  });
  const { crdt, bodies } = await persistedWorkspace(ws);
  expect([...crdt.files.keys()].filter((k) => !isDocIdKey(k))).toEqual([]);
  expect(bodies.filter((b) => !isDocIdKey(b))).toEqual([]);
  expect(validateWorkspace(crdt, bodies).issues).toEqual([]);
}

const fm = (title: string, extra = '') =>
  `---\ntitle: ${title}\n${extra}updated: 2024-01-01T00:00:00.000Z\n---\n\n`;

describe('push and pull on a doc-id workspace', () => {
  test('pull writes the paths; an edited file and a new file are pushed onto UUID keys; pull again agrees', async () => {
    const { client, crdt } = await rawWorkspace('docs');
    const readme = crdt.createFile({
      filename: 'README.md',
      title: 'Home',
      modified_at: Date.parse('2024-01-01'),
    });
    const note = crdt.createFile({
      filename: 'notes/note.md',
      title: 'Note',
      part_of: readme,
      modified_at: Date.parse('2024-01-01'),
    });
    (await body(client, 'docs', readme)).getText('body').insert(0, 'home\n');
    (await body(client, 'docs', note)).getText('body').insert(0, 'note body\n');
    for (const d of ['workspace:docs', `body:docs/${readme}`, `body:docs/${note}`]) await client.save(d);

    const dir = tempDir('docids-pull');
    expectExit(await runCli(['pull', dir, ...conn('docs')]), 0);
    expect([...readTree(dir).keys()].sort()).toEqual(['README.md', 'notes/note.md']);
    expect(readFileSync(join(dir, 'notes/note.md'), 'utf8')).toMatch(
      /part_of: "\[Home\]\(\/README\.md\)"[\s\S]*\n\nnote body\n$/,
    );

    writeFileSync(
      join(dir, 'notes/note.md'),
      readFileSync(join(dir, 'notes/note.md'), 'utf8') + 'edited by push\n',
    );
    writeFileSync(join(dir, 'notes/new.md'), `${fm('New', 'part_of: "[Home](/README.md)"\n')}new body\n`);
    const push = await runCli(['push', dir, ...conn('docs')]);
    expectExit(push, 0);
    expect(push.stdout).toMatch(/1 created, 1 updated, 0 deleted, 1 unchanged/);

    await expectCleanDocIdWorkspace('docs', ['README.md', 'notes/new.md', 'notes/note.md']);
    const { crdt: stored } = await persistedWorkspace('docs');
    expect(stored.findByPath('notes/note.md')).toBe(note);
    const added = stored.findByPath('notes/new.md')!;
    expect(stored.getFile(added)?.part_of).toBe(readme);
    await client.waitFor(
      () => bodyText(client.docs.get(`body:docs/${note}`)!).endsWith('edited by push\n'),
      15_000,
      'the pushed edit',
    );

    const again = tempDir('docids-pull-again');
    expectExit(await runCli(['pull', again, ...conn('docs', 1)]), 0);
    expect(readTree(again)).toEqual(readTree(dir));
    // Nothing changed: a second push is a no-op.
    expect((await runCli(['push', dir, ...conn('docs')])).stdout).toMatch(
      /0 created, 0 updated, 0 deleted, 3 unchanged/,
    );
  });
});

describe('start on a doc-id workspace', () => {
  let start: CliProcess | undefined;
  afterAll(async () => {
    await start?.stop('SIGKILL');
  });

  test('local rename, local move and remote rename while another client edits the body', async () => {
    const { client, crdt } = await rawWorkspace('live');
    const key = crdt.createFile({
      filename: 'note.md',
      title: 'Note',
      modified_at: Date.parse('2024-01-01'),
    });
    const text = (await body(client, 'live', key)).getText('body');
    text.insert(0, 'first line\n');
    await client.save(`body:live/${key}`);
    await client.save('workspace:live');

    const dir = tempDir('docids-start');
    start = spawnCli(['start', dir, ...conn('live'), '--debounce', '100']);
    await start.waitForStdout(/watching .* \(1 files; 0 imported, 1 written\)/, 30_000);
    const file = (p: string) => (existsSync(join(dir, p)) ? readFileSync(join(dir, p), 'utf8') : undefined);
    const until = (what: string, check: () => boolean) =>
      waitUntil(check, 20_000, what).catch((err: Error) => {
        throw new Error(
          `${err.message}\n${start!.describe()}\n${JSON.stringify(Object.fromEntries(readTree(dir)))}\n${JSON.stringify(crdt.files.toJSON())}`,
        );
      });

    // 1. A local edit: the UUID entry's body changes, no path-keyed entry appears.
    writeFileSync(join(dir, 'note.md'), file('note.md')! + 'local line\n');
    await until('the local edit reaches the other client', () => text.toString().includes('local line\n'));
    expect([...crdt.files.keys()]).toEqual([key]);

    // 2. A local rename while the other client types into the body.
    renameSync(join(dir, 'note.md'), join(dir, 'renamed.md'));
    text.insert(text.length, 'typed during the rename\n');
    await until('the rename reaches the workspace', () => crdt.getPath(key) === 'renamed.md');
    await until('the concurrent text reaches the renamed file', () =>
      (file('renamed.md') ?? '').includes('typed during the rename'),
    );
    expect(file('note.md')).toBeUndefined();

    // 3. A local move into a folder, again with concurrent typing.
    mkdirSync(join(dir, 'sub'));
    renameSync(join(dir, 'renamed.md'), join(dir, 'sub/moved.md'));
    text.insert(text.length, 'typed during the move\n');
    await until('the move reaches the workspace', () => crdt.getPath(key) === 'sub/moved.md');
    await until('the concurrent text reaches the moved file', () =>
      (file('sub/moved.md') ?? '').includes('typed during the move'),
    );

    // 4. A remote rename (filename update) while the body is edited remotely and locally.
    writeFileSync(
      join(dir, 'sub/moved.md'),
      file('sub/moved.md')!.replace('first line', 'first line, edited locally'),
    );
    crdt.renameFile(key, 'remote.md'); // a plain name keeps the folder: sub/remote.md
    text.insert(text.length, 'typed with the remote rename\n');
    await until(
      'the remote rename reaches the folder',
      () => file('sub/remote.md') !== undefined && file('sub/moved.md') === undefined,
    );
    await until('every edit is in the renamed file and the body doc', () => {
      const f = file('sub/remote.md') ?? '';
      const t = text.toString();
      return [
        'first line, edited locally',
        'local line',
        'typed during the rename',
        'typed during the move',
        'typed with the remote rename',
      ].every((l) => f.includes(l) && t.includes(l));
    });
    expect(start.stdout).toMatch(/renamed note\.md → renamed\.md\n/);
    expect(start.stdout).toMatch(/renamed renamed\.md → sub\/moved\.md\n/);
    expect(start.stdout).toMatch(/renamed sub\/moved\.md → sub\/remote\.md \(remote\)/);

    // 5. A new file gets a UUID key.
    writeFileSync(join(dir, 'added.md'), `${fm('Added')}added body\n`);
    await until('the new file reaches the workspace', () => crdt.findByPath('added.md') !== undefined);
    expect(isDocIdKey(crdt.findByPath('added.md')!)).toBe(true);

    await expectCleanDocIdWorkspace('live', ['added.md', 'sub/remote.md']);
    const end = await start.stop('SIGINT');
    expect(end.code).toBe(0);
    expect(end.stderr).toBe('');

    const pulled = tempDir('docids-start-pull');
    expectExit(await runCli(['pull', pulled, ...conn('live', 1)]), 0);
    expect([...readTree(pulled).keys()].sort()).toEqual(['added.md', 'sub/remote.md']);
    expect(readTree(pulled).get('sub/remote.md')).toContain('typed with the remote rename');
  });
});

describe('--doc-ids', () => {
  test('push --doc-ids into an empty workspace creates UUID keys', async () => {
    const dir = tempDir('docids-fresh');
    writeFileSync(join(dir, 'a.md'), `${fm('A')}alpha\n`);
    expectExit(await runCli(['push', dir, ...conn('fresh'), '--doc-ids']), 0);
    await expectCleanDocIdWorkspace('fresh', ['a.md']);
  });
});
