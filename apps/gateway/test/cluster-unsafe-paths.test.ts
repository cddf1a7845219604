/**
 * Unsafe paths arriving over the sockets (docs/protocol.md#paths), against real gateway and
 * doc-service processes: a body doc id whose path is not NFC, holds a bidi control character or
 * is a Windows reserved name is a protocol error (close 4400, reason `unsafe_path: …`) on `/sync2`
 * frames, `/sync2` focus messages and `/yjs` URLs; nothing of it is stored; other connections
 * keep syncing. A workspace-doc update adding a file under such a name is refused the same way.
 * The CLI skips such names with a message, when pulling and when pushing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as Y from 'yjs';
import { WorkspaceCrdt } from '@diaryx-sync/crdt';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import { encodeFrame, encodeMessage } from '@diaryx-sync/protocol';
import { cleanupCli, readTree, runCli, tempDir } from './helpers/cli';
import { openSocket, startCluster, Sync2TestClient, type TestCluster } from './helpers/cluster';

jest.setTimeout(60_000);

const UNSAFE = [
  ['bidi override', 'invoice\u202Edm.exe.md'],
  ['bidi isolate', 'a\u2067b.md'],
  ['Windows reserved name', 'CON.md'],
  ['reserved folder', 'notes/Lpt1/a.md'],
  ['NFD spelling', 'cafe\u0301.md'],
] as const;

let cluster: TestCluster;
let editor: string;
let tenantId: string;
const clients: Sync2TestClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({ docServices: 1 });
  const tenant = await cluster.createTenant('paths');
  tenantId = tenant.id;
  await cluster.createWorkspace(tenant, 'ws');
  await cluster.createWorkspace(tenant, 'legacy');
  editor = await cluster.token({ tid: tenant.id, ws: ['ws', 'legacy'], role: 'editor' });
}, 90_000);

afterAll(async () => {
  await cleanupCli();
  for (const c of clients) c.close();
  await cluster?.stop();
});

async function connect(): Promise<Sync2TestClient> {
  const c = await Sync2TestClient.connect(cluster.ws(), editor);
  clients.push(c);
  return c;
}

describe.each(UNSAFE)('%s', (_what, path) => {
  const docId = `body:ws/${path}`;

  it('in a /sync2 frame: close 4400 unsafe_path, nothing stored', async () => {
    const c = await connect();
    c.sendRaw(encodeFrame(docId, encodeMessage({ type: 'syncStep1', stateVector: new Uint8Array([0]) })));
    const closed = await c.closed;
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/^unsafe_path: /);
    const rows = await cluster.pool.query('SELECT 1 FROM crdt_updates WHERE doc = $1', [docId]);
    expect(rows.rows).toHaveLength(0);
  });

  it('in a /sync2 focus message: close 4400 unsafe_path', async () => {
    const c = await connect();
    await c.openSynced('workspace:ws');
    c.sendText(JSON.stringify({ type: 'focus', files: [docId] }));
    const closed = await c.closed;
    expect(closed.code).toBe(4400);
    expect(closed.reason).toMatch(/^unsafe_path: /);
  });

  it('in a /yjs URL: HTTP 400 unsafe_path before the upgrade, and without one', async () => {
    const url = `${cluster.ws()}/yjs/${encodeURIComponent(docId)}?token=${editor}`;
    await expect(openSocket(url)).rejects.toThrow('HTTP 400');
    const plain = await fetch(url.replace(/^ws/, 'http'));
    expect(plain.status).toBe(400);
    expect(((await plain.json()) as { error: { code: string } }).error.code).toBe('unsafe_path');
  });
});

it('a workspace-doc update adding a file with an unsafe name: close 4400 unsafe_path, not stored', async () => {
  for (const [what, path] of UNSAFE) {
    const c = await connect();
    const wsDoc = await c.openSynced('workspace:ws');
    new WorkspaceCrdt(wsDoc).setFile(path, { title: what, modified_at: 1_700_000_000_000 });
    const closed = await c.closed;
    expect({ what, code: closed.code }).toEqual({ what, code: 4400 });
    expect(closed.reason).toContain('unsafe_path: workspace file: ');
  }
  const check = await connect();
  const files = new WorkspaceCrdt(await check.openSynced('workspace:ws')).listFiles().map((f) => f.path);
  expect(files.filter((p) => UNSAFE.some(([, u]) => u === p))).toEqual([]);
});

it('safe names next to the refused ones sync normally', async () => {
  const a = await connect();
  const b = await connect();
  for (const path of ['caf\u00e9.md', 'CONSOLE.md', 'notes/lpt10/a.md']) {
    const docId = `body:ws/${path}`;
    const docA = await a.openSynced(docId);
    const docB = await b.openSynced(docId);
    docA.getText('body').insert(0, `hello ${path}`);
    await a.save(docId);
    await b.waitFor(() => docB.getText('body').toString() === `hello ${path}`, 10_000, `sync of ${path}`);
  }
});

describe('the CLI', () => {
  const conn = (workspace: string) => ['--server', cluster.ws(), '--workspace', workspace, '--token', editor];

  it('pull writes the safe files and skips remote entries with unsafe names, saying why', async () => {
    // Entries with unsafe names stored before these rules existed (the sockets refuse new ones).
    const storage = new PostgresStorage({ pool: cluster.pool, tenant: tenantId });
    const workspace = new WorkspaceCrdt();
    workspace.setFile('AUX.md', { title: 'Device', modified_at: 1_700_000_000_000 });
    workspace.setFile('spoof\u202Edm.exe.md', { title: 'Spoof', modified_at: 1_700_000_000_000 });
    workspace.setFile('pulled.md', { title: 'Pulled', modified_at: 1_700_000_000_000 });
    await storage.appendUpdate('workspace:legacy', workspace.encodeStateAsUpdate());
    const body = new Y.Doc();
    body.getText('body').insert(0, 'safe text\n');
    await storage.appendUpdate('body:legacy/pulled.md', Y.encodeStateAsUpdate(body));

    const dir = tempDir('unsafe-pull');
    const r = await runCli(['pull', dir, ...conn('legacy'), '--no-progress']);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const tree = readTree(dir);
    expect(tree.get('pulled.md')).toContain('safe text');
    expect([...tree.keys()].filter((p) => /aux|spoof/i.test(p))).toEqual([]);
    expect(r.stderr).toContain(
      'warning: AUX.md: not written: unsafe name: "AUX.md" is a reserved name on Windows',
    );
    expect(r.stderr).toContain('not written: unsafe name: contains a bidi control character');
    expect(r.stdout).toContain('2 skipped (unsafe names)');
  });

  it('push sends the safe files and skips local files with unsafe names, saying why', async () => {
    const dir = tempDir('unsafe-push');
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'fine.md'), '---\ntitle: Fine\n---\n\nfine\n');
    writeFileSync(join(dir, 'con.md'), 'device\n');
    writeFileSync(join(dir, 'notes', 'x\u2066y.md'), 'isolate\n');
    writeFileSync(join(dir, 'cafe\u0301.md'), 'nfd\n');
    const tenant = await cluster.createTenant('push-paths');
    await cluster.createWorkspace(tenant, 'pushed');
    const token = await cluster.token({ tid: tenant.id, ws: ['pushed'], role: 'editor' });
    const r = await runCli([
      'push',
      dir,
      '--server',
      cluster.ws(),
      '--workspace',
      'pushed',
      '--token',
      token,
      '--no-progress',
    ]);
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(r.stderr).toContain('warning: con.md: unsafe name: "con.md" is a reserved name on Windows');
    expect(r.stderr).toContain('unsafe name: contains a bidi control character');
    expect(r.stderr).toContain('unsafe name: not in Unicode NFC');

    const reader = await Sync2TestClient.connect(cluster.ws(), token);
    clients.push(reader);
    const wsDoc = await reader.openSynced('workspace:pushed');
    expect(new WorkspaceCrdt(wsDoc).listFiles().map((f) => f.path)).toEqual(['fine.md']);
  });
});
