/** `/healthz`, `/readyz` and `/metrics` of the gateway (real Redis heartbeats, real app). */
import { Redis } from 'ioredis';
import { type GatewayHarness, REDIS_URL, api, dropSchema, startGateway } from './api-harness';

let gw: GatewayHarness;
let redis: Redis;

beforeAll(async () => {
  gw = await startGateway();
  redis = new Redis(REDIS_URL);
});

afterAll(async () => {
  const keys = await redis.keys(`${gw.prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
  await gw?.close();
  if (gw) await dropSchema(gw.schema);
});

it('GET /healthz answers 200 without authentication', async () => {
  const res = await api(gw.baseUrl, 'GET', '/healthz');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ status: 'ok' });
});

it('GET /readyz is 503 without a doc-service heartbeat and 200 with one, until it expires', async () => {
  const notReady = await api(gw.baseUrl, 'GET', '/readyz');
  expect(notReady.status).toBe(503);
  expect(notReady.body).toMatchObject({ status: 'not_ready', checks: { redis: 'ok', doc_services: 0 } });

  // another prefix's heartbeat does not count
  await redis.set(`other${gw.prefix}:instance:doc-service:x`, '{}', 'PX', 3000);
  expect((await api(gw.baseUrl, 'GET', '/readyz')).status).toBe(503);

  const now = new Date().toISOString();
  await redis.set(
    `${gw.prefix}:instance:doc-service:ds-1`,
    JSON.stringify({
      id: 'ds-1',
      kind: 'doc-service',
      started_at: now,
      updated_at: now,
      shards: [],
      docs_loaded: 0,
      workspaces: [],
    }),
    'PX',
    800,
  );
  const ready = await api(gw.baseUrl, 'GET', '/readyz');
  expect(ready.status).toBe(200);
  expect(ready.body).toMatchObject({
    status: 'ready',
    checks: { redis: 'ok', doc_services: 1, draining: false },
  });

  await new Promise((r) => setTimeout(r, 1000));
  expect((await api(gw.baseUrl, 'GET', '/readyz')).status).toBe(503);
});

it('GET /metrics serves Prometheus text with default and diaryx_* metrics', async () => {
  await api(gw.baseUrl, 'GET', '/api/workspaces'); // 401, observed by the HTTP histogram
  const res = await fetch(`${gw.baseUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const text = await res.text();
  expect(text).toContain('process_cpu_user_seconds_total');
  expect(text).toContain('nodejs_eventloop_lag_seconds');
  expect(text).toContain('# TYPE diaryx_gateway_connections gauge');
  expect(text).toMatch(
    /diaryx_http_request_duration_seconds_count\{[^}]*route="\/api\/workspaces"[^}]*status="401"[^}]*\} 1/,
  );
  expect(text).toMatch(/service="gateway"/);
});

it('a second app in the same process has its own registry (no duplicate-metric crash)', async () => {
  const second = await startGateway({}, { schema: gw.schema, prefix: gw.prefix });
  try {
    const res = await fetch(`${second.baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).not.toMatch(/route="\/api\/workspaces"[^}]*status="401"/);
  } finally {
    await second.close();
  }
});

it('readiness goes 503 draining while the app shuts down', async () => {
  const third = await startGateway({}, { schema: gw.schema, prefix: gw.prefix });
  const { ReadinessService } = await import('../src/health/readiness.service');
  const readiness = third.app.get(ReadinessService);
  readiness.beforeApplicationShutdown();
  const report = await readiness.check();
  expect(report.ready).toBe(false);
  expect(report.checks.draining).toBe(true);
  await third.close();
});
