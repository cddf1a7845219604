/**
 * Git is the authoritative history (docs/protocol.md#compaction-after-commit), against the real
 * stack: a commit folds each doc's update log into its snapshot up to what it captured, keeping
 * the newest HISTORY_KEEP_UPDATES; edits made afterwards stay in the log; restoring an earlier
 * commit works across the compacted boundary. Prints the log size before/after (docs/benchmarks.md).
 */
import { createFileMetadata, serializeFileMetadata } from '@diaryx-sync/crdt';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import {
  ServiceProcess,
  startCluster,
  Sync2TestClient,
  bodyText,
  type TestCluster,
  type TestTenant,
} from './helpers/cluster';

jest.setTimeout(180_000);

const WS = 'compacted';
const KEEP = 5;
const EDITS = 400;
let s3: EmbeddedS3;
let cluster: TestCluster;
let worker: ServiceProcess;
let tenant: TestTenant;
let token: string;
let client: Sync2TestClient;

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${cluster.http()}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  });
}

async function logSize(): Promise<{ rows: number; bytes: number }> {
  const r = await cluster.pool.query<{ rows: string; bytes: string | null }>(
    `SELECT count(*) AS rows, sum(octet_length(data)) AS bytes FROM crdt_updates WHERE tenant = $1`,
    [tenant.id],
  );
  return { rows: Number(r.rows[0]!.rows), bytes: Number(r.rows[0]!.bytes ?? 0) };
}

async function commit(): Promise<string> {
  const res = await api(`/api/workspaces/${WS}/commit`, { method: 'POST' });
  expect(res.status).toBe(200);
  return ((await res.json()) as { commit_id: string }).commit_id;
}

beforeAll(async () => {
  s3 = await startEmbeddedS3({ port: 0 });
  cluster = await startCluster({
    env: {
      S3_ENDPOINT: s3.endpoint,
      HISTORY_QUIET_MS: '600000',
      HISTORY_MAX_WAIT_MS: '600000',
      HISTORY_KEEP_UPDATES: String(KEEP),
    },
  });
  worker = await cluster.historyWorker();
  await worker.start();
  tenant = await cluster.createTenant('compaction');
  await cluster.createWorkspace(tenant, WS);
  token = await cluster.token({ tid: tenant.id, ws: [WS], role: 'editor' });
  client = await Sync2TestClient.connect(cluster.ws(), token);
}, 120_000);

afterAll(async () => {
  client?.close();
  await worker?.stop();
  await cluster?.stop();
  await s3?.stop();
});

test('a commit compacts the log up to what it captured; restore crosses the boundary', async () => {
  const ws = await client.openSynced(`workspace:${WS}`);
  const files = ['a.md', 'b.md'];
  for (const f of files) {
    ws.getMap('files').set(f, serializeFileMetadata(createFileMetadata({ filename: f, title: f })));
  }
  const bodies = await Promise.all(files.map((f) => client.openSynced(`body:${WS}/${f}`)));
  for (let i = 0; i < EDITS; i++) {
    const text = bodies[i % bodies.length]!.getText('body');
    text.insert(text.length, `word${i} `);
    // a save every 10 edits: the gateway batches the frames of one turn into one row
    // (frame-batches.ts), so each doc gets at least one row per round, 80 rows in all
    if (i % 10 === 9) for (const f of files) await client.save(`body:${WS}/${f}`);
  }
  for (const f of files) await client.save(`body:${WS}/${f}`);
  await client.save(`workspace:${WS}`);
  const committedA = bodyText(bodies[0]!);

  const before = await logSize();
  const first = await commit();
  const after = await logSize();
  console.log(
    `update log of ${EDITS} edits on ${files.length} files, HISTORY_KEEP_UPDATES=${KEEP}: ` +
      `${before.rows} rows / ${before.bytes} B before the commit, ${after.rows} rows / ${after.bytes} B after`,
  );
  expect(before.rows).toBeGreaterThanOrEqual(EDITS / 5);
  expect(after.rows).toBeLessThanOrEqual(KEEP * (files.length + 1));

  // Edits after the commit stay in the log; a second commit captures and compacts them too.
  bodies[0]!.getText('body').insert(0, 'after the commit ');
  await client.save(`body:${WS}/a.md`);
  const versions = (await (
    await api(`/api/workspaces/${WS}/versions?doc=${encodeURIComponent(`body:${WS}/a.md`)}`)
  ).json()) as { versions: { update_id: number }[]; compacted_through: number };
  expect(versions.versions.length).toBeGreaterThanOrEqual(1);
  // The listing says where update-level history ends: every listed update is newer.
  expect(versions.compacted_through).toBeGreaterThan(0);
  expect(Math.min(...versions.versions.map((v) => v.update_id))).toBeGreaterThan(versions.compacted_through);
  expect(versions.versions.length).toBeLessThanOrEqual(KEEP + 1);

  // Restore the first commit across the compacted boundary: the client converges on it.
  const res = await api(`/api/workspaces/${WS}/restore`, {
    method: 'POST',
    body: JSON.stringify({ commit_id: first }),
  });
  expect(res.status).toBe(200);
  await client.waitFor(() => bodyText(bodies[0]!) === committedA, 30_000, 'restored body');
  expect(bodyText(bodies[0]!)).not.toContain('after the commit');
});
