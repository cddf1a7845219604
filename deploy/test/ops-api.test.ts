/**
 * `/ops` on an in-process gateway (real Nest app, real PostgreSQL schema, real Redis prefix):
 * authentication (Bearer, login form cookie, logout, 401s), security headers, and
 * `GET /ops/api/state` built from heartbeats and the history tables.
 */
import { instanceKey, queuePrefix } from '@diaryx-sync/bus';
import { AuditLog, HealthStore, ensureGitStoreSchema } from '@diaryx-sync/git-store';
import type { RedisClient } from '@diaryx-sync/runtime';
import { ADMIN_TOKEN, type GatewayHarness } from '../../apps/gateway/test/api-harness';
import { startOpsGateway, stopOpsGateway } from './lib/ops-gateway';

let gw: GatewayHarness;
let redis: RedisClient;

beforeAll(async () => {
  ({ gw, redis } = await startOpsGateway());
});

afterAll(() => stopOpsGateway(gw, redis));

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(gw.baseUrl + path, { headers, redirect: 'manual' });
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe('/ops authentication', () => {
  it('answers 401 without credentials or with a wrong token (JSON API and page)', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token' },
      { cookie: 'dx_ops=forged' },
    ];
    for (const headers of attempts) {
      const api = await get('/ops/api/state', headers);
      expect(api.status).toBe(401);
      expect(await api.json()).toEqual({
        error: { code: 'unauthorized', message: 'cluster admin token required' },
      });
      const page = await get('/ops', headers);
      expect(page.status).toBe(401);
      const html = await page.text();
      expect(html).toContain('<form method="post" action="/ops/login"');
      expect(html).not.toContain('/ops/assets/ops.js');
    }
    // A tenant JWT is not the cluster admin token.
    expect((await get('/ops/api/state', { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x' })).status).toBe(
      401,
    );
  });

  it('accepts the ADMIN_TOKEN as Bearer header and serves the dashboard with a strict CSP', async () => {
    const page = await get('/ops', bearer);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toContain('<script src="/ops/assets/ops.js"></script>');
    const js = await get('/ops/assets/ops.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
    expect((await get('/ops/assets/ops.css')).status).toBe(200);
  });

  it('login form sets an HttpOnly cookie (not the token itself) that authorizes; logout clears it', async () => {
    const bad = await fetch(`${gw.baseUrl}/ops/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: 'nope' }),
      redirect: 'manual',
    });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain('Invalid admin token.');
    expect(bad.headers.get('set-cookie')).toBeNull();

    const ok = await fetch(`${gw.baseUrl}/ops/login`, {
      method: 'POST',
      body: new URLSearchParams({ token: ADMIN_TOKEN }),
      redirect: 'manual',
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/ops');
    const setCookie = ok.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^dx_ops=[A-Za-z0-9_-]+; Path=\/ops; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(setCookie).not.toContain(ADMIN_TOKEN);
    const cookie = setCookie.split(';')[0];
    expect((await get('/ops/api/state', { cookie })).status).toBe(200);
    expect((await get('/ops', { cookie: `other=1; ${cookie}` })).status).toBe(200);

    const out = await fetch(`${gw.baseUrl}/ops/logout`, { method: 'POST', redirect: 'manual' });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toContain('Max-Age=0');
  });
});

describe('GET /ops/api/state', () => {
  it('reports the live instances, shards, tenants, queues, rebuilds, failed validations and workspace health', async () => {
    // The history tables are migrated at start-up (gateway history module or worker); a part
    // that cannot be read (here: a table missing) becomes a warning, never an error.
    await ensureGitStoreSchema(gw.pool);
    await gw.pool.query('ALTER TABLE history_audit RENAME TO history_audit_hidden');
    let res = await get('/ops/api/state', bearer);
    let state = await res.json();
    await gw.pool.query('ALTER TABLE history_audit_hidden RENAME TO history_audit');
    expect(res.status).toBe(200);
    expect(state.warnings).toEqual([
      'failed validations: table not created yet',
      'rebuilds: table not created yet',
      'repairs: table not created yet',
      'validation alerts: table not created yet',
    ]);

    await ensureGitStoreSchema(gw.pool);
    const health = new HealthStore(gw.pool);
    const audit = new AuditLog(gw.pool);
    await health.record('t-ops', 'ws-bad', {
      ok: false,
      consecutiveFailures: 3,
      tracker: {},
      issues: [{ kind: 'path_cycle' }, { kind: 'orphan' }],
    });
    await health.record('t-ops', 'ws-good', { ok: true, consecutiveFailures: 0, tracker: {}, issues: [] });
    await audit.record({
      tenant: 't-ops',
      workspace: 'ws-bad',
      event: 'validation_failed',
      actor: 'system',
      commit_id: null,
      backup_key: null,
      details: { issues: 2 },
    });
    await audit.record({
      tenant: 't-ops',
      workspace: 'ws-bad',
      event: 'rebuild',
      actor: 'system',
      commit_id: 'abc123',
      backup_key: 'k',
      details: {},
    });
    await gw.pool.query(
      `INSERT INTO tenants (id, name) VALUES ('t-ops', 'Ops Tenant') ON CONFLICT DO NOTHING`,
    );
    const beat = (kind: 'doc-service' | 'history-worker', id: string, extra: Record<string, unknown>) =>
      redis.set(
        instanceKey(gw.prefix, kind, id),
        JSON.stringify({
          id,
          kind,
          started_at: new Date().toISOString(),
          updated_at: new Date().toISOString(),
          ...extra,
        }),
        'PX',
        10_000,
      );
    await beat('doc-service', 'ds-test', {
      shards: [0, 1, 2, 3],
      docs_loaded: 5,
      workspaces: [{ tenant: 't-ops', workspace: 'ws-good', peers: 2 }],
    });
    await beat('history-worker', 'hw-test', {
      active_jobs: 1,
      concurrency: 2,
      queues: { validation: { waiting: 4, active: 1, delayed: 0, failed: 1 } },
    });

    res = await get('/ops/api/state', bearer);
    state = await res.json();
    expect(state.warnings).toEqual([]);
    expect(state.prefix).toBe(gw.prefix);
    expect(state.summary).toMatchObject({
      doc_services: 1,
      history_workers: 1,
      shard_count: 64,
      shards_owned: 4,
      docs_loaded: 5,
      failing_workspaces: 1,
    });
    expect(state.shard_owners.slice(0, 5)).toEqual(['ds-test', 'ds-test', 'ds-test', 'ds-test', null]);
    expect(state.queues).toEqual([
      { queue: 'validation', source: 'heartbeat', waiting: 4, active: 1, delayed: 0, failed: 1 },
    ]);
    expect(state.recent_rebuilds).toEqual([
      expect.objectContaining({ tenant: 't-ops', workspace: 'ws-bad', commit_id: 'abc123' }),
    ]);
    expect(state.failed_validations).toEqual([
      expect.objectContaining({ workspace: 'ws-bad', details: { issues: 2 } }),
    ]);
    expect(state.workspaces[0]).toMatchObject({
      tenant: 't-ops',
      workspace: 'ws-bad',
      status: 'failing',
      consecutive_failures: 3,
      issues: 2,
    });
    expect(state.workspaces.find((w: { workspace: string }) => w.workspace === 'ws-good')).toMatchObject({
      status: 'healthy',
      peers: 2,
    });

    // Without a live worker, queue depths come straight from BullMQ's keys in Redis.
    await redis.del(instanceKey(gw.prefix, 'history-worker', 'hw-test'));
    await redis.rpush(`${queuePrefix(gw.prefix)}:compaction:wait`, '1', '2');
    state = await (await get('/ops/api/state', bearer)).json();
    expect(state.queues.find((q: { queue: string }) => q.queue === 'compaction')).toEqual({
      queue: 'compaction',
      source: 'redis',
      waiting: 2,
      active: 0,
      delayed: 0,
      failed: 0,
    });
  });
});
