/**
 * Change webhooks (docs/protocol.md#webhooks) on a real topology: gateway + doc service + history
 * worker processes (from `dist`; run `npm run build` first), s3rver, and a real HTTP receiver on
 * loopback. Deliveries are signed (the documented recipe verifies them), a 500 is retried with the
 * same idempotency id (both attempts listed on `/ops` and counted on the worker's `/metrics`), and
 * a tenant's events never reach another tenant's hooks.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '@diaryx-sync/bus';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import {
  type ServiceProcess,
  startCluster,
  type TestCluster,
  type TestTenant,
  waitUntil,
} from './helpers/cluster';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

describe('change webhooks (gateway + doc service + history worker + loopback receiver)', () => {
  let s3: EmbeddedS3;
  let cluster: TestCluster;
  let worker: ServiceProcess;
  let receiver: Server;
  let receiverUrl: string;
  const received: Received[] = [];
  const failuresLeft = new Map<string, number>([['/flaky', 1]]);
  let a: TestTenant;
  let b: TestTenant;

  const api = async (
    token: string,
    method: string,
    path: string,
    body?: unknown,
    type = 'application/json',
  ) => {
    const res = await fetch(`${cluster.http()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': type }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? (JSON.parse(text) as Record<string, any>) : {} }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const path = req.url ?? '/';
        const left = failuresLeft.get(path) ?? 0;
        const status = left > 0 ? 500 : 200;
        if (left > 0) failuresLeft.set(path, left - 1);
        received.push({
          path,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          answered: status,
        });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    s3 = await startEmbeddedS3({ port: 0 });
    cluster = await startCluster({
      docServices: 1,
      env: { S3_ENDPOINT: s3.endpoint, HISTORY_QUIET_MS: '60000' },
    });
    worker = await cluster.historyWorker();
    await worker.start();
    a = await cluster.createTenant('hooks-a');
    b = await cluster.createTenant('hooks-b');
    await cluster.createWorkspace(a, 'w1');
    await cluster.createWorkspace(b, 'w1'); // same workspace id, other tenant
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await cluster?.stop();
    await s3?.stop();
    await new Promise((r) => receiver?.close(r));
  }, 60_000);

  test('register, list without secret, refuse non-http(s) URLs; signed commit events, 500 retried, no cross-tenant delivery', async () => {
    const bad = await api(a.adminToken, 'POST', '/api/workspaces/w1/webhooks', {
      url: 'ftp://127.0.0.1/x',
      events: ['commit.created'],
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('invalid_request');
    const editor = await cluster.token({ tid: a.id, ws: ['w1'], role: 'editor' });
    expect(
      (
        await api(editor, 'POST', '/api/workspaces/w1/webhooks', {
          url: `${receiverUrl}/a`,
          events: ['commit.created'],
        })
      ).status,
    ).toBe(403);

    const hookA = await api(a.adminToken, 'POST', '/api/workspaces/w1/webhooks', {
      url: `${receiverUrl}/a`,
      events: ['commit.created'],
    });
    expect(hookA.status).toBe(201);
    expect(hookA.json).toEqual({
      id: expect.stringMatching(/^wh_/),
      url: `${receiverUrl}/a`,
      events: ['commit.created'],
      created_at: expect.any(String),
      secret: expect.stringMatching(/^whsec_/),
    });
    const flaky = await api(a.adminToken, 'POST', '/api/workspaces/w1/webhooks', {
      url: `${receiverUrl}/flaky`,
      events: ['commit.created', 'file.changed'],
      secret: 'my-own-secret-0123456789',
    });
    expect(flaky.status).toBe(201);
    const hookB = await api(b.adminToken, 'POST', '/api/workspaces/w1/webhooks', {
      url: `${receiverUrl}/b`,
      events: ['commit.created'],
    });
    expect(hookB.status).toBe(201);

    const list = await api(a.adminToken, 'GET', '/api/workspaces/w1/webhooks');
    expect(list.status).toBe(200);
    expect(list.json.webhooks.map((h: { id: string }) => h.id)).toEqual(
      [hookA.json.id, flaky.json.id].sort(),
    );
    expect(list.json.next_cursor).toBeNull();
    const page1 = await api(a.adminToken, 'GET', '/api/workspaces/w1/webhooks?limit=1');
    expect(page1.json.webhooks).toHaveLength(1);
    const page2 = await api(
      a.adminToken,
      'GET',
      `/api/workspaces/w1/webhooks?limit=1&cursor=${page1.json.next_cursor}`,
    );
    expect([...page1.json.webhooks, ...page2.json.webhooks].map((h: { id: string }) => h.id)).toEqual(
      [hookA.json.id, flaky.json.id].sort(),
    );
    expect(JSON.stringify(list.json)).not.toContain('secret');

    // Tenant A changes a file and commits.
    expect(
      (await api(editor, 'PUT', '/api/workspaces/w1/files/hello.md', '# Hello\n', 'text/markdown')).status,
    ).toBe(201);
    const commit = await api(editor, 'POST', '/api/workspaces/w1/commit');
    expect(commit.status).toBe(200);
    const commitId = commit.json.commit_id as string;

    await waitUntil(() => received.some((r) => r.path === '/a'), 30_000, 'delivery to hook A');
    const delivery = received.find((r) => r.path === '/a')!;
    const event = JSON.parse(delivery.body) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(event).toEqual({
      id: expect.any(String),
      type: 'commit.created',
      created_at: expect.any(String),
      workspace: 'w1',
      data: expect.objectContaining({ commit_id: commitId, added: ['hello.md'] }),
    });
    expect(delivery.headers['diaryx-webhook-id']).toBe(event.id);
    const sig = {
      timestamp: delivery.headers['diaryx-timestamp'] as string,
      signature: delivery.headers['diaryx-signature'] as string,
    };
    expect(verifyWebhook(hookA.json.secret, sig, delivery.body)).toBe(true);
    expect(verifyWebhook(hookA.json.secret, sig, delivery.body.replace('w1', 'w2'))).toBe(false);
    expect(verifyWebhook(hookB.json.secret, sig, delivery.body)).toBe(false);

    // The flaky hook answered 500 once: the same event (same idempotency id) arrives again.
    await waitUntil(() => received.filter((r) => r.path === '/flaky').length >= 2, 30_000, 'the retry');
    const [first, second] = received.filter((r) => r.path === '/flaky');
    expect(first!.answered).toBe(500);
    expect(second!.answered).toBe(200);
    expect(second!.headers['diaryx-webhook-id']).toBe(first!.headers['diaryx-webhook-id']);
    expect(
      verifyWebhook(
        'my-own-secret-0123456789',
        {
          timestamp: second!.headers['diaryx-timestamp'] as string,
          signature: second!.headers['diaryx-signature'] as string,
        },
        second!.body,
      ),
    ).toBe(true);
    // Both attempts are on /ops (host only: no URL path, secret or payload) and counted by the worker.
    interface Attempt {
      tenant: string;
      workspace: string;
      webhook_id: string;
      event: string;
      url_host: string;
      attempt: number;
      outcome: string;
      http_status: number | null;
      error: string | null;
    }
    const opsState = async () => {
      const res = await fetch(`${cluster.http()}/ops/api/state`, {
        headers: { authorization: `Bearer ${cluster.adminToken}` },
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { webhook_deliveries: Attempt[]; webhook_failures: Attempt[] };
    };
    const flakyAttempts = (rows: Attempt[]) => rows.filter((r) => r.webhook_id === flaky.json.id);
    const ops = await waitUntil(
      async () => {
        const state = await opsState();
        return flakyAttempts(state.webhook_deliveries).length >= 2 ? state : undefined;
      },
      30_000,
      'both flaky attempts on /ops',
    );
    const host = new URL(receiverUrl).host;
    const common = { tenant: a.id, workspace: 'w1', event: 'commit.created', url_host: host };
    expect(flakyAttempts(ops.webhook_deliveries)).toEqual([
      expect.objectContaining({ ...common, attempt: 2, outcome: 'delivered', http_status: 200, error: null }),
      expect.objectContaining({ ...common, attempt: 1, outcome: 'failed', http_status: 500 }),
    ]);
    expect(flakyAttempts(ops.webhook_failures)).toEqual([
      expect.objectContaining({ ...common, attempt: 1, outcome: 'failed', http_status: 500 }),
    ]);
    expect(ops.webhook_failures.every((r) => r.outcome !== 'delivered')).toBe(true);
    const opsText = JSON.stringify([ops.webhook_deliveries, ops.webhook_failures]);
    expect(opsText).not.toContain('/flaky');
    expect(opsText).not.toContain('my-own-secret');
    expect(opsText).not.toContain(commitId);
    const metrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
    const deliveries = (outcome: string) =>
      Number(
        new RegExp(`^diaryx_webhook_deliveries_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`, 'm').exec(
          metrics,
        )?.[1],
      );
    expect(deliveries('failed')).toBe(1);
    expect(deliveries('delivered')).toBeGreaterThanOrEqual(2);
    expect(deliveries('gave_up')).toBe(0);
    expect(metrics).toMatch(/^diaryx_webhook_delivery_seconds_count\{[^}]*outcome="failed"[^}]*\} 1$/m);
    // Tenant B's hook on its own "w1" heard nothing of tenant A.
    expect(received.filter((r) => r.path === '/b')).toEqual([]);

    // Tenant B commits: only B's hook hears it.
    const editorB = await cluster.token({ tid: b.id, ws: ['w1'], role: 'editor' });
    await api(editorB, 'PUT', '/api/workspaces/w1/files/b.md', 'b\n', 'text/markdown');
    expect((await api(editorB, 'POST', '/api/workspaces/w1/commit')).status).toBe(200);
    await waitUntil(() => received.some((r) => r.path === '/b'), 30_000, 'delivery to hook B');
    expect(received.filter((r) => r.path === '/a')).toHaveLength(1);
    expect(received.filter((r) => r.path === '/flaky')).toHaveLength(2);

    // Tenant B cannot see or delete A's hooks; A deletes its own.
    expect((await api(b.adminToken, 'DELETE', `/api/workspaces/w1/webhooks/${hookA.json.id}`)).status).toBe(
      404,
    );
    expect((await api(a.adminToken, 'DELETE', `/api/workspaces/w1/webhooks/${hookA.json.id}`)).status).toBe(
      204,
    );
    expect((await api(a.adminToken, 'GET', '/api/workspaces/w1/webhooks')).json.webhooks).toHaveLength(1);
  }, 120_000);
  test('file events: created, changed, deleted, debounced per file, only to subscribed hooks of the tenant', async () => {
    const hook = await api(a.adminToken, 'POST', '/api/workspaces/w1/webhooks', {
      url: `${receiverUrl}/files`,
      events: ['file.created', 'file.changed', 'file.deleted'],
    });
    expect(hook.status).toBe(201);
    const otherTenant = await api(b.adminToken, 'POST', '/api/workspaces/w1/webhooks', {
      url: `${receiverUrl}/files-b`,
      events: ['file.created', 'file.changed', 'file.deleted'],
    });
    expect(otherTenant.status).toBe(201);
    const editor = await cluster.token({ tid: a.id, ws: ['w1'], role: 'editor' });
    const events = () =>
      received
        .filter((r) => r.path === '/files')
        .map((r) => JSON.parse(r.body) as { type: string; data: { path: string } })
        .filter((e) => e.data.path === 'live.md')
        .map((e) => e.type);
    // Created and changed twice within the debounce window: one "file.created".
    await api(editor, 'PUT', '/api/workspaces/w1/files/live.md', 'one\n', 'text/markdown');
    await api(editor, 'PUT', '/api/workspaces/w1/files/live.md', 'two\n', 'text/markdown');
    await api(editor, 'PUT', '/api/workspaces/w1/files/live.md', 'three\n', 'text/markdown');
    await waitUntil(() => events().length >= 1, 30_000, 'file.created');
    await new Promise((r) => setTimeout(r, 2500));
    expect(events()).toEqual(['file.created']);
    await api(editor, 'PUT', '/api/workspaces/w1/files/live.md', 'four\n', 'text/markdown');
    await waitUntil(() => events().length >= 2, 30_000, 'file.changed');
    expect((await api(editor, 'DELETE', '/api/workspaces/w1/files/live.md')).status).toBe(204);
    await waitUntil(() => events().length >= 3, 30_000, 'file.deleted');
    expect(events()).toEqual(['file.created', 'file.changed', 'file.deleted']);
    const delivery = received.find((r) => r.path === '/files')!;
    expect(
      verifyWebhook(
        hook.json.secret,
        {
          timestamp: delivery.headers['diaryx-timestamp'] as string,
          signature: delivery.headers['diaryx-signature'] as string,
        },
        delivery.body,
      ),
    ).toBe(true);
    // Tenant B's hook on its own "w1" hears B's files (b.md of the first test), never A's live.md.
    const toB = received.filter((r) => r.path === '/files-b').map((r) => r.body);
    expect(toB.some((body) => body.includes('live.md'))).toBe(false);

    // Deleting a workspace deletes its hooks: a new workspace with that id starts without any.
    expect((await api(b.adminToken, 'DELETE', '/api/workspaces/w1')).status).toBe(204);
    await cluster.createWorkspace(b, 'w1');
    expect((await api(b.adminToken, 'GET', '/api/workspaces/w1/webhooks')).json.webhooks).toEqual([]);
    expect((await api(a.adminToken, 'GET', '/api/workspaces/w1/webhooks')).json.webhooks).toHaveLength(2);
  }, 120_000);
});
