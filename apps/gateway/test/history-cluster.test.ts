/**
 * History end to end on a real topology: gateway + 2 doc services (processes from `dist`), two
 * history-worker processes, s3rver. Edits come from a `/sync2` client; commits, restore and
 * repair in place must reach that connected client as forward updates.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BodyDoc, materializeWorkspace, WorkspaceCrdt } from '@diaryx-sync/crdt';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import { readWorkspaceZip } from '@diaryx-sync/git-store';
import {
  ServiceProcess,
  startCluster,
  Sync2TestClient,
  waitUntil,
  type TestCluster,
  type TestTenant,
} from './helpers/cluster';

const run = promisify(execFile);
const WS = 'live_ws';

/** Materializes what the connected client holds. */
function clientFiles(client: Sync2TestClient): { path: string; content: string }[] {
  const ws = new WorkspaceCrdt(client.docs.get(`workspace:${WS}`)!);
  const bodies = new Map<string, string>();
  for (const [docId, doc] of client.docs) {
    if (docId.startsWith(`body:${WS}/`))
      bodies.set(docId.slice(`body:${WS}/`.length), doc.getText('body').toString());
  }
  return materializeWorkspace(ws, bodies).map((f) => ({ path: f.path, content: f.content }));
}

describe('history on a running cluster', () => {
  let s3: EmbeddedS3;
  let cluster: TestCluster;
  const workers: ServiceProcess[] = [];
  let tenant: TestTenant;
  let token: string;
  let client: Sync2TestClient;

  const http = (path: string, init: RequestInit = {}) =>
    fetch(`${cluster.http()}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(init.headers ?? {}),
      },
    });

  beforeAll(async () => {
    s3 = await startEmbeddedS3({ port: 0 });
    const historyEnv = { S3_ENDPOINT: s3.endpoint, HISTORY_QUIET_MS: '700', HISTORY_MAX_WAIT_MS: '10000' };
    cluster = await startCluster({ env: historyEnv });
    for (let i = 0; i < 2; i++) workers.push(await cluster.historyWorker(`history-worker-${i}`));
    await Promise.all(workers.map((w) => w.start()));
    tenant = await cluster.createTenant('live');
    await cluster.createWorkspace(tenant, WS);
    token = await cluster.token({ tid: tenant.id, ws: [WS], role: 'editor', sub: 'carol' });
    client = await Sync2TestClient.connect(cluster.ws(), token);
  }, 90_000);

  afterAll(async () => {
    client?.close();
    await Promise.all(workers.map((w) => w.stop()));
    await cluster?.stop();
    await s3?.stop();
  });

  let firstCommit: string;

  it('edit → quiet period → a commit appears in /history; git clone equals the workspace', async () => {
    const wsDoc = await client.openSynced(`workspace:${WS}`);
    const readme = await client.openSynced(`body:${WS}/README.md`);
    const note = await client.openSynced(`body:${WS}/notes/a.md`);
    const ws = new WorkspaceCrdt(wsDoc);
    ws.setFile('README.md', { title: 'Live', contents: ['notes/a.md'], modified_at: 1_700_000_000_000 });
    ws.setFile('notes/a.md', { title: 'Note', part_of: 'README.md', modified_at: 1_700_000_000_000 });
    new BodyDoc('README.md', readme).setBody('# Live\n');
    new BodyDoc('notes/a.md', note).setBody('first ✍️\n');
    for (const id of client.docs.keys()) await client.save(id);

    const commits = await waitUntil(
      async () => {
        const body = (await (await http(`/api/workspaces/${WS}/history`)).json()) as {
          commits: { id: string; parents: string[]; message: string }[];
        };
        return body.commits.length > 0 ? body.commits : null;
      },
      20_000,
      'an automatic commit',
    );
    expect(commits[0].message).toMatch(/2 added/);
    firstCommit = commits[0].id;

    const zip = Buffer.from(await (await http(`/api/workspaces/${WS}/snapshot`)).arrayBuffer());
    const materialized = await readWorkspaceZip(zip);
    expect(materialized).toEqual(clientFiles(client));

    const dir = await mkdtemp(join(tmpdir(), 'live-clone-'));
    try {
      const url = cluster.http().replace('http://', `http://token:${token}@`) + `/git/${WS}.git`;
      await run('git', ['clone', '-q', url, join(dir, 'w')], {
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      });
      for (const f of materialized) expect(await readFile(join(dir, 'w', f.path), 'utf8')).toBe(f.content);
      const { stdout } = await run('git', ['-C', join(dir, 'w'), 'log', '--format=%H']);
      expect(stdout.trim().split('\n')[0]).toBe(firstCommit);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('restore to a commit while the client is connected: the client converges on the commit', async () => {
    new BodyDoc('notes/a.md', client.docs.get(`body:${WS}/notes/a.md`)!).setBody('second version\n');
    const ws = new WorkspaceCrdt(client.docs.get(`workspace:${WS}`)!);
    ws.setFile('later.md', { title: 'Later', modified_at: 1_700_000_100_000 });
    new BodyDoc('later.md', client.open(`body:${WS}/later.md`)).setBody('later\n');
    for (const id of client.docs.keys()) await client.save(id);
    const c2 = await http(`/api/workspaces/${WS}/commit`, { method: 'POST' });
    expect([200, 409]).toContain(c2.status); // 409 when the quiet-period commit was first

    const res = await http(`/api/workspaces/${WS}/restore`, {
      method: 'POST',
      body: JSON.stringify({ commit_id: firstCommit }),
    });
    expect(res.status).toBe(200);
    const old = await readWorkspaceZip(
      Buffer.from(
        await (await http(`/api/workspaces/${WS}/snapshot?commit_id=${firstCommit}`)).arrayBuffer(),
      ),
    );
    await client.waitFor(
      () => JSON.stringify(clientFiles(client)) === JSON.stringify(old),
      15_000,
      'client converged on the restored commit',
    );
    expect(clientFiles(client).map((f) => f.path)).toEqual(['README.md', 'notes/a.md']);
    const history = (await (await http(`/api/workspaces/${WS}/history?limit=100`)).json()) as {
      commits: { id: string; parents: string[] }[];
    };
    expect(history.commits.map((c) => c.id)).toContain(firstCommit);
  });

  it('a broken parent is repaired in place by the next commit (no rebuild, nothing reverted), and the client converges', async () => {
    const ws = new WorkspaceCrdt(client.docs.get(`workspace:${WS}`)!);
    const meta = ws.getFile('notes/a.md')!;
    ws.setFile('notes/a.md', { ...meta, part_of: 'vanished/parent.md', modified_at: meta.modified_at + 5 });
    await client.save(`workspace:${WS}`);
    const before = new BodyDoc('notes/a.md', client.docs.get(`body:${WS}/notes/a.md`)!).getBody();
    // the commit repairs first (the quiet-period job may have done it already: then 409 nothing_to_commit)
    const r = await http(`/api/workspaces/${WS}/commit`, { method: 'POST' });
    if (r.status !== 200)
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('nothing_to_commit');
    const row = await waitUntil(
      async () =>
        (
          await cluster.pool.query<{ details: { repairs: { kind: string; files: string[] }[] } }>(
            `SELECT details FROM history_audit WHERE tenant = $1 AND workspace = $2 AND event = 'repair'`,
            [tenant.id, WS],
          )
        ).rows[0],
      20_000,
      'a repair audit row',
    );
    expect(row.details.repairs).toEqual([
      expect.objectContaining({ kind: 'reattach', files: ['notes/a.md', 'vanished/parent.md'] }),
    ]);
    await client.waitFor(
      () =>
        new WorkspaceCrdt(client.docs.get(`workspace:${WS}`)!).getFile('notes/a.md')?.part_of === 'README.md',
      15_000,
      'client sees the repaired parent',
    );
    expect(new BodyDoc('notes/a.md', client.docs.get(`body:${WS}/notes/a.md`)!).getBody()).toBe(before);
    const rebuilds = await cluster.pool.query(
      `SELECT 1 FROM history_audit WHERE tenant = $1 AND workspace = $2 AND event = 'rebuild'`,
      [tenant.id, WS],
    );
    expect(rebuilds.rowCount).toBe(0);
    const ok = await http(`/api/workspaces/${WS}/commit`, { method: 'POST' });
    expect([200, 409]).toContain(ok.status);
    if (ok.status === 409)
      expect(((await ok.json()) as { error: { code: string } }).error.code).toBe('nothing_to_commit');
  });

  it('both workers together produced one linear history', async () => {
    const { commits } = (await (await http(`/api/workspaces/${WS}/history?limit=100`)).json()) as {
      commits: { id: string; parents: string[] }[];
    };
    for (let i = 0; i < commits.length - 1; i++) expect(commits[i].parents).toEqual([commits[i + 1].id]);
    expect(commits[commits.length - 1].parents).toEqual([]);
    const metrics = await (await fetch(`http://127.0.0.1:${workers[0].port}/metrics`)).text();
    expect(metrics).toContain('diaryx_queue_depth');
    expect(metrics).toContain('diaryx_job_duration_seconds');
    expect((await fetch(`http://127.0.0.1:${workers[0].port}/readyz`)).status).toBe(200);
    await workers[1].stop('SIGTERM');
    expect(workers[1].exit.code).toBe(0);
  });
});
