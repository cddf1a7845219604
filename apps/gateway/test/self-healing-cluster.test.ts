/**
 * Self-healing on the real stack (docs/self-healing.md): gateway + doc services (processes from
 * `dist`), a history worker, PostgreSQL, Redis, s3rver. An orphan body doc after a good commit must
 * never revert acknowledged edits; commits continue and the orphan's text ends up committed under
 * `lost+found/`. The same for the README's `/yjs` example on an empty workspace.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as Y from 'yjs';
import WebSocket from 'ws';
import { BodyDoc, WorkspaceCrdt } from '@diaryx-sync/crdt';
import { PostgresStorage } from '@diaryx-sync/crdt/postgres';
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

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { WebsocketProvider } = require('y-websocket') as typeof import('y-websocket');

const GRACE_MS = 1000;
const LINES = 40;

describe('self-healing on a running cluster', () => {
  let s3: EmbeddedS3;
  let cluster: TestCluster;
  let worker: ServiceProcess;
  let tenant: TestTenant;

  beforeAll(async () => {
    s3 = await startEmbeddedS3({ port: 0 });
    cluster = await startCluster({
      env: {
        S3_ENDPOINT: s3.endpoint,
        HISTORY_QUIET_MS: '300',
        HISTORY_MAX_WAIT_MS: '5000',
        HISTORY_ORPHAN_GRACE_MS: String(GRACE_MS),
      },
    });
    worker = await cluster.historyWorker();
    await worker.start();
    tenant = await cluster.createTenant('heal');
  }, 90_000);

  afterAll(async () => {
    await worker?.stop();
    await cluster?.stop();
    await s3?.stop();
  });

  const api = (token: string, path: string, init: RequestInit = {}) =>
    fetch(`${cluster.http()}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    });

  /** POST …/commit: `committed`, `nothing_to_commit` or the error code. */
  const commit = async (token: string, ws: string): Promise<string> => {
    const res = await api(token, `/api/workspaces/${ws}/commit`, { method: 'POST' });
    const body = (await res.json()) as { status?: string; error?: { code: string } };
    return res.status === 200 ? 'committed' : (body.error?.code ?? String(res.status));
  };

  const headFiles = async (token: string, ws: string) =>
    readWorkspaceZip(Buffer.from(await (await api(token, `/api/workspaces/${ws}/snapshot`)).arrayBuffer()));

  const text = (files: { path: string; content: Uint8Array }[], path: string) => {
    const f = files.find((x) => x.path === path);
    return f ? Buffer.from(f.content).toString() : undefined;
  };

  it('an orphan body after a good commit: no acknowledged line is reverted, commits resume, the orphan is committed under lost+found', async () => {
    const WS = 'book';
    await cluster.createWorkspace(tenant, WS);
    const token = await cluster.token({ tid: tenant.id, ws: [WS], role: 'editor', sub: 'ed' });
    const editor = await Sync2TestClient.connect(cluster.ws(), token);
    const typo = await Sync2TestClient.connect(cluster.ws(), token);
    try {
      const ws = new WorkspaceCrdt(await editor.openSynced(`workspace:${WS}`));
      const readme = new BodyDoc('README.md', await editor.openSynced(`body:${WS}/README.md`));
      const ch1 = new BodyDoc('ch1.md', await editor.openSynced(`body:${WS}/ch1.md`));
      ws.setFile('README.md', { title: 'Book', contents: ['ch1.md'], modified_at: 1_700_000_000_000 });
      ws.setFile('ch1.md', { title: 'Chapter 1', part_of: 'README.md', modified_at: 1_700_000_000_000 });
      readme.setBody('# Book\n');
      ch1.setBody('Chapter one.\n');
      for (const id of editor.docs.keys()) await editor.save(id);
      const good = await waitUntil(
        async () =>
          (await commit(token, WS)) === 'committed' || (await headFiles(token, WS)).length > 0 ? true : null,
        20_000,
        'the good commit',
      );
      expect(good).toBe(true);

      // the editor appends lines, each acknowledged with `saved`
      const acknowledged: string[] = [];
      for (let i = 1; i <= LINES; i++) {
        const line = `line ${i} of the chapter\n`;
        ch1.insertAt(ch1.getBody().length, line);
        await editor.save(`body:${WS}/ch1.md`);
        acknowledged.push(line);
      }
      // a client writes a body doc with no workspace entry (a typo in a path)
      const orphan = new BodyDoc('nope.md', typo.open(`body:${WS}/nope.md`));
      orphan.setBody('text written to a path that has no file\n');
      await typo.save(`body:${WS}/nope.md`);
      const orphanWrittenAt = Date.now();

      // repeated commit attempts: never a validation failure, never a revert
      const results: string[] = [];
      for (let i = 0; i < 6; i++) {
        results.push(await commit(token, WS));
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(results.every((r) => r === 'committed' || r === 'nothing_to_commit')).toBe(true);
      // commits resumed: the head has every acknowledged line (committed by these attempts, or
      // before them by the automatic commit after HISTORY_QUIET_MS; then they all answer
      // nothing_to_commit)
      expect(text(await headFiles(token, WS), 'ch1.md')).toContain(acknowledged.join(''));
      await waitUntil(
        async () => (Date.now() - orphanWrittenAt > GRACE_MS ? true : null),
        10_000,
        'the grace period',
      );
      await waitUntil(
        async () => {
          await commit(token, WS);
          return text(await headFiles(token, WS), 'lost+found/nope.md') ? true : null;
        },
        20_000,
        'the orphan committed under lost+found',
      );

      // nothing reverted: PostgreSQL, the connected client, the head commit
      const expected = `Chapter one.\n${acknowledged.join('')}`;
      const storage = new PostgresStorage({ pool: cluster.pool, tenant: tenant.id });
      const stored = BodyDoc.fromUpdate('ch1.md', await storage.loadDoc(`body:${WS}/ch1.md`)).getBody();
      expect(stored).toBe(expected);
      expect(ch1.getBody()).toBe(expected);
      const files = await headFiles(token, WS);
      expect(text(files, 'ch1.md')).toContain(acknowledged.join(''));
      // the orphan's text is retrievable: committed under lost+found, its own doc untouched
      expect(text(files, 'lost+found/nope.md')).toMatch(
        /recovered_from: nope\.md[\s\S]*text written to a path that has no file\n$/,
      );
      expect(orphan.getBody()).toBe('text written to a path that has no file\n');
      // connected clients converge on the repair
      await editor.waitFor(
        () => ws.getFile('lost+found/nope.md')?.part_of === 'README.md',
        15_000,
        'the editor sees the adopted file',
      );
      // told: an audit row, no rebuild, the ops page
      const events = await cluster.pool.query<{ event: string; details: { repairs?: { kind: string }[] } }>(
        'SELECT event, details FROM history_audit WHERE tenant = $1 AND workspace = $2 ORDER BY id',
        [tenant.id, WS],
      );
      expect(events.rows.map((r) => r.event)).toEqual(['repair']);
      expect(events.rows[0].details.repairs!.map((r) => r.kind)).toEqual(['adopt_orphan']);
      const ops = (await (
        await fetch(`${cluster.http()}/ops/api/state`, {
          headers: { authorization: `Bearer ${cluster.adminToken}` },
        })
      ).json()) as { recent_repairs: { workspace: string }[] };
      expect(ops.recent_repairs.map((r) => r.workspace)).toContain(WS);
      const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
      expect(metrics).toMatch(/^diaryx_repairs_total\{[^}]*kind="adopt_orphan"[^}]*\} [1-9]/m);
    } finally {
      editor.close();
      typo.close();
    }
  });

  it("the README's /yjs example on an empty workspace: commits happen, the text is committed after the grace period", async () => {
    const WS = 'demo';
    await cluster.createWorkspace(tenant, WS);
    const token = await cluster.token({ tid: tenant.id, ws: [WS], role: 'editor', sub: 'demo-user' });
    const other = await Sync2TestClient.connect(cluster.ws(), token);
    const ydoc = new Y.Doc();
    const provider = new WebsocketProvider(
      `${cluster.ws()}/yjs`,
      encodeURIComponent(`body:${WS}/README.md`),
      ydoc,
      {
        params: { token },
        WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
        disableBc: true,
      },
    );
    try {
      await waitUntil(async () => (provider.synced ? true : null), 15_000, 'y-websocket synced');
      ydoc.getText('body').insert(0, 'hello from y-websocket\n');
      // another file written over /sync2 gets committed meanwhile: the orphan blocks nothing
      const ws = new WorkspaceCrdt(await other.openSynced(`workspace:${WS}`));
      const note = new BodyDoc('note.md', await other.openSynced(`body:${WS}/note.md`));
      ws.setFile('note.md', { title: 'Note', modified_at: 1_700_000_000_000 });
      note.setBody('a note\n');
      for (const id of other.docs.keys()) await other.save(id);
      await waitUntil(
        async () => (text(await headFiles(token, WS), 'note.md') ? true : null),
        20_000,
        'a commit while the orphan is young',
      );
      await waitUntil(
        async () => {
          await commit(token, WS);
          return text(await headFiles(token, WS), 'lost+found/README.md')?.includes('hello from y-websocket')
            ? true
            : null;
        },
        20_000,
        'README text committed under lost+found',
      );
      expect(ydoc.getText('body').toString()).toBe('hello from y-websocket\n');
      const rebuilds = await cluster.pool.query(
        `SELECT 1 FROM history_audit WHERE tenant = $1 AND workspace = $2 AND event IN ('rebuild', 'validation_failed')`,
        [tenant.id, WS],
      );
      expect(rebuilds.rowCount).toBe(0);
    } finally {
      provider.destroy();
      provider.awareness.destroy();
      other.close();
    }
  });
  it("npm start's demo workspace has a README.md, so the README's /yjs example edits a real file that gets committed", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { ensureDemo } = require('../../../scripts/start.js') as {
      ensureDemo: (
        httpBase: string,
        adminToken: string,
        stateFile: string,
        log: (line: string) => void,
        env: Record<string, string>,
      ) => Promise<{ tenant: string; token: string }>;
    };
    const dir = await mkdtemp(join(tmpdir(), 'demo-state-'));
    try {
      const demo = await ensureDemo(
        cluster.http(),
        cluster.adminToken,
        join(dir, 'demo.json'),
        () => undefined,
        {},
      );
      const ydoc = new Y.Doc();
      const provider = new WebsocketProvider(
        `${cluster.ws()}/yjs`,
        encodeURIComponent('body:demo/README.md'),
        ydoc,
        {
          params: { token: demo.token },
          WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
          disableBc: true,
        },
      );
      try {
        await waitUntil(async () => (provider.synced ? true : null), 15_000, 'y-websocket synced');
        expect(ydoc.getText('body').toString()).toContain('# Demo');
        ydoc.getText('body').insert(ydoc.getText('body').length, 'typed over /yjs\n');
        const committed = await waitUntil(
          async () => {
            await commit(demo.token, 'demo');
            const readme = text(await headFiles(demo.token, 'demo'), 'README.md');
            return readme?.includes('typed over /yjs') ? readme : null;
          },
          20_000,
          'the /yjs edit committed in README.md',
        );
        expect(committed).toMatch(/^---\ntitle: Demo\n/);
      } finally {
        provider.destroy();
        provider.awareness.destroy();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
