/**
 * Who changed what, against the real stack (docs/protocol.md#who-changed-what): the token's `sub`
 * and `device_name` are stored with every update, shown by the versions API, and the git commit
 * names the users who changed the workspace since the previous commit.
 */
import { createFileMetadata, serializeFileMetadata } from '@diaryx-sync/crdt';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import {
  ServiceProcess,
  startCluster,
  Sync2TestClient,
  type TestCluster,
  type TestTenant,
} from './helpers/cluster';

jest.setTimeout(120_000);

const WS = 'authors';
let s3: EmbeddedS3;
let cluster: TestCluster;
let worker: ServiceProcess;
let tenant: TestTenant;
const clients: Sync2TestClient[] = [];

interface Version {
  update_id: number;
  user: string | null;
  device_name: string | null;
  files_changed: string[];
}

async function api(path: string, token: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${cluster.http()}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
}

async function versions(token: string, doc: string): Promise<Version[]> {
  const res = await api(`/api/workspaces/${WS}/versions?doc=${encodeURIComponent(doc)}`, token);
  expect(res.status).toBe(200);
  return ((await res.json()) as { versions: Version[] }).versions;
}

async function connect(token: string): Promise<Sync2TestClient> {
  const c = await Sync2TestClient.connect(cluster.ws(), token);
  clients.push(c);
  return c;
}

async function commit(token: string): Promise<{ author: string; message: string }> {
  const res = await api(`/api/workspaces/${WS}/commit`, token, { method: 'POST' });
  expect(res.status).toBe(200);
  const history = (await (await api(`/api/workspaces/${WS}/history`, token)).json()) as {
    commits: { author: string; message: string }[];
  };
  return history.commits[0]!;
}

beforeAll(async () => {
  s3 = await startEmbeddedS3({ port: 0 });
  cluster = await startCluster({
    env: { S3_ENDPOINT: s3.endpoint, HISTORY_QUIET_MS: '600000', HISTORY_MAX_WAIT_MS: '600000' },
  });
  worker = await cluster.historyWorker();
  await worker.start();
  tenant = await cluster.createTenant('authors');
  await cluster.createWorkspace(tenant, WS);
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await worker?.stop();
  await cluster?.stop();
  await s3?.stop();
});

test('updates carry user and device; commits name the users who changed files since the last one', async () => {
  const minted = await api('/api/tokens', tenant.adminToken, {
    method: 'POST',
    body: JSON.stringify({ sub: 'alice', ws: [WS], role: 'editor', device_name: 'laptop' }),
  });
  expect(minted.status).toBe(201);
  const aliceToken = ((await minted.json()) as { token: string }).token;
  const bobToken = await cluster.token({ tid: tenant.id, ws: [WS], role: 'editor', sub: 'bob' });

  const alice = await connect(aliceToken);
  const ws = await alice.openSynced(`workspace:${WS}`);
  ws.getMap('files').set('a.md', serializeFileMetadata(createFileMetadata({ filename: 'a.md', title: 'A' })));
  await alice.save(`workspace:${WS}`);
  const body = await alice.openSynced(`body:${WS}/a.md`);
  for (const word of ['one ', 'two ', 'three ']) {
    body.getText('body').insert(body.getText('body').length, word);
    await alice.save(`body:${WS}/a.md`);
  }
  const bob = await connect(bobToken);
  const bobBody = await bob.openSynced(`body:${WS}/a.md`);
  bobBody.getText('body').insert(0, 'bob: ');
  await bob.save(`body:${WS}/a.md`);

  const wsVersions = await versions(aliceToken, `workspace:${WS}`);
  expect(wsVersions.some((v) => v.user === 'alice' && v.device_name === 'laptop')).toBe(true);
  // The diff between two versions carries the metadata at both.
  const latest = Math.max(...wsVersions.map((v) => v.update_id));
  const diffRes = await api(`/api/workspaces/${WS}/versions/diff?from=0&to=${latest}`, aliceToken);
  expect(diffRes.status).toBe(200);
  const diff = (await diffRes.json()) as {
    files: { path: string; change: string; old: unknown; new: { title?: string } | null }[];
  };
  expect(diff.files).toEqual([
    expect.objectContaining({
      path: 'a.md',
      change: 'Added',
      old: null,
      new: expect.objectContaining({ title: 'A' }),
    }),
  ]);
  expect((await api(`/api/workspaces/${WS}/versions/diff?from=x&to=1`, aliceToken)).status).toBe(400);
  const bodyVersions = await versions(aliceToken, `body:${WS}/a.md`);
  expect(bodyVersions.filter((v) => v.user === 'alice').length).toBe(3);
  expect(bodyVersions.filter((v) => v.user === 'bob' && v.device_name === null).length).toBe(1);

  // Per-file history: the metadata update of a.md and every body update, with their authors.
  const fileRes = await api(`/api/workspaces/${WS}/files/a.md/versions`, aliceToken);
  expect(fileRes.status).toBe(200);
  const fileVersions = ((await fileRes.json()) as { versions: (Version & { doc: string })[] }).versions;
  expect(fileVersions.filter((v) => v.doc === `body:${WS}/a.md`)).toHaveLength(4);
  expect(fileVersions.some((v) => v.doc === `workspace:${WS}` && v.user === 'alice')).toBe(true);
  expect(fileVersions.map((v) => v.update_id)).toEqual(
    [...fileVersions.map((v) => v.update_id)].sort((x, y) => y - x),
  );
  // One page at a time: the pages together are the whole list, in the same order.
  const pages: number[] = [];
  for (let cursor = '', n = 0; n < 20; n++) {
    const res = await api(`/api/workspaces/${WS}/files/a.md/versions?limit=2${cursor}`, aliceToken);
    const page = (await res.json()) as { versions: Version[]; next_cursor: string | null };
    expect(page.versions.length).toBeLessThanOrEqual(2);
    pages.push(...page.versions.map((v) => v.update_id));
    if (!page.next_cursor) break;
    cursor = `&cursor=${encodeURIComponent(page.next_cursor)}`;
  }
  expect(pages).toEqual(fileVersions.map((v) => v.update_id));
  // The file itself is still readable at its path.
  expect((await api(`/api/workspaces/${WS}/files/a.md`, aliceToken)).status).toBe(200);

  // Commit times have 1 s resolution: an edit in the same second as a commit also counts as
  // "since" that commit (named once more, never dropped), so let the second turn first.
  await new Promise((r) => setTimeout(r, 1100));
  const first = await commit(aliceToken);
  expect(first.author).toBe('alice (laptop)');
  expect(first.message).toContain('Co-authored-by: bob <');

  // Only bob since then: he alone is named.
  bobBody.getText('body').insert(bobBody.getText('body').length, 'again');
  await bob.save(`body:${WS}/a.md`);
  await new Promise((r) => setTimeout(r, 1100)); // commit times have 1 s resolution
  const second = await commit(bobToken);
  expect(second.author).toBe('bob');
  expect(second.message).not.toContain('Co-authored-by');
});
