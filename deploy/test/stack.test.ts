/**
 * A real stack on this machine (built `dist` processes: 2 gateways, 2 doc services, 1 history
 * worker, embedded S3; real PostgreSQL and Redis): every service's `/metrics` exposes the shared
 * metric catalogue (with real samples after some traffic), and the `/ops` page renders the live
 * cluster in headless Chromium (login form → dashboard), with a screenshot in `test-output/`.
 * Needs `npm run build` first (root `npm test` does it). Without /usr/bin/chromium the browser
 * part is skipped with a loud warning; everything else still runs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { METRIC_NAMES, createMetricsRegistry } from '@diaryx-sync/runtime';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import { chromium, type Browser } from 'playwright-core';
import {
  REDIS_URL,
  ServiceProcess,
  Sync2TestClient,
  type TestCluster,
  freePort,
  startCluster,
  waitUntil,
} from '../../apps/gateway/test/helpers/cluster';
import { ROOT } from './lib/apps';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HAS_CHROMIUM = fs.existsSync(CHROMIUM);
if (!HAS_CHROMIUM) {
  // eslint-disable-next-line no-console
  console.warn(
    `\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n` +
      `!!! WARNING: ${CHROMIUM} not found: the /ops browser test is SKIPPED.\n` +
      `!!! Install it with: apt-get update && apt-get install -y chromium\n` +
      `!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n`,
  );
}
const itWithBrowser = HAS_CHROMIUM ? it : it.skip;

jest.setTimeout(120_000);

let s3: EmbeddedS3;
let cluster: TestCluster;
let worker: ServiceProcess;
let client: Sync2TestClient | undefined;
const TENANT = 'ops-stack';
let tenantId = '';

beforeAll(async () => {
  s3 = await startEmbeddedS3({ port: 0 });
  const s3Env = {
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY: s3.config.accessKey,
    S3_SECRET_KEY: s3.config.secretKey,
    S3_BUCKET: s3.config.bucket,
  };
  cluster = await startCluster({ gateways: 2, docServices: 2, shardCount: 16, env: s3Env });
  const port = await freePort();
  worker = new ServiceProcess(
    'history-worker',
    path.join(ROOT, 'apps/history-worker/dist/main.js'),
    port,
    {
      ...process.env,
      ...s3Env,
      NODE_ENV: 'test',
      REDIS_URL,
      REDIS_PREFIX: cluster.prefix,
      DATABASE_URL: cluster.databaseUrl,
      JWT_SECRET: cluster.jwtSecret,
      ADMIN_TOKEN: cluster.adminToken,
      SHARD_COUNT: '16',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      HISTORY_QUIET_MS: '500',
    },
    path.join(cluster.logDir, 'history-worker.log'),
  );
  await worker.start();

  // Some traffic, so histograms and counters carry samples: a tenant, a workspace, a client
  // that edits a doc and waits for the save barrier (persisted in PostgreSQL).
  const tenant = await cluster.createTenant(TENANT);
  tenantId = tenant.id;
  await cluster.createWorkspace(tenant, 'ops-ws', 'Ops workspace');
  client = await Sync2TestClient.connect(
    cluster.ws(0),
    await cluster.token({ tid: tenant.id, ws: ['ops-ws'] }),
  );
  const doc = await client.openSynced('body:ops-ws/notes.md');
  for (let i = 0; i < 5; i++) doc.getText('body').insert(0, `edit ${i}\n`);
  await client.save('body:ops-ws/notes.md');
});

afterAll(async () => {
  client?.ws.close();
  await worker?.stop();
  await cluster?.stop();
  await s3?.stop();
});

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** Sum of every sample of `name` (all label sets) in a Prometheus text exposition. */
function sampleSum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

describe('a running stack', () => {
  it('every service exposes /healthz, /readyz and the named metrics on /metrics', async () => {
    const services = [
      ...cluster.gateways.map((p) => ({ p, service: 'gateway' })),
      ...cluster.docServices.map((p) => ({ p, service: 'doc-service' })),
      { p: worker, service: 'history-worker' },
    ] as const;
    for (const { p, service } of services) {
      expect([p.name, (await fetch(`http://127.0.0.1:${p.port}/healthz`)).status]).toEqual([p.name, 200]);
      await waitUntil(
        async () => (await fetch(`http://127.0.0.1:${p.port}/readyz`)).status === 200,
        15_000,
        `${p.name} ready`,
      );
      const text = await scrape(p.port);
      // Its own part of the catalogue, and nothing of the other services' parts.
      const own = createMetricsRegistry({ service, defaultMetrics: false })
        .registry.getMetricsAsArray()
        .map((m) => m.name);
      const missing = own.filter((n) => !text.includes(`# TYPE ${n} `));
      expect([p.name, missing]).toEqual([p.name, []]);
      const foreign = Object.values(METRIC_NAMES).filter(
        (n) => !own.includes(n) && text.includes(`# TYPE ${n} `),
      );
      expect([p.name, foreign]).toEqual([p.name, []]);
      for (const n of [
        'process_cpu_user_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
        'nodejs_heap_size_used_bytes',
      ]) {
        expect([p.name, text.includes(`# TYPE ${n} `)]).toEqual([p.name, true]);
      }
      expect(text).toContain(`service="${service}"`);
      expect(sampleSum(text, 'diaryx_build_info')).toBe(1);
    }
  });

  it('the metrics carry real samples after traffic (gateway frames, shard ownership, PostgreSQL appends)', async () => {
    const gw = await scrape(cluster.gateways[0].port);
    expect(sampleSum(gw, 'diaryx_gateway_connections_opened_total')).toBeGreaterThanOrEqual(1);
    expect(sampleSum(gw, 'diaryx_gateway_frames_received_total')).toBeGreaterThanOrEqual(1);
    expect(sampleSum(gw, 'diaryx_http_request_duration_seconds_count')).toBeGreaterThanOrEqual(1);
    // Leases may still be moving right after start-up: wait until the two owners cover all 16.
    const docs = await waitUntil(
      async () => {
        const texts = await Promise.all(cluster.docServices.map((p) => scrape(p.port)));
        return texts.reduce((n, t) => n + sampleSum(t, 'diaryx_shards_owned'), 0) === 16 ? texts : null;
      },
      20_000,
      'diaryx_shards_owned to sum to 16',
    );
    expect(
      docs.reduce((n, t) => n + sampleSum(t, 'diaryx_pg_append_batch_size_count'), 0),
    ).toBeGreaterThanOrEqual(1);
    expect(docs.reduce((n, t) => n + sampleSum(t, 'diaryx_updates_applied_total'), 0)).toBeGreaterThanOrEqual(
      1,
    );
    const hw = await scrape(worker.port);
    await waitUntil(
      async () => (await scrape(worker.port)).includes('diaryx_queue_depth{'),
      15_000,
      'worker queue depth samples',
    );
    expect(hw).toContain('# TYPE diaryx_job_duration_seconds histogram');
  });

  it('GET /ops/api/state shows both gateways, both doc services owning all shards, the worker and the tenant', async () => {
    const unauth = await fetch(`${cluster.http(1)}/ops/api/state`);
    expect(unauth.status).toBe(401);
    const state = await waitUntil(
      async () => {
        const res = await fetch(`${cluster.http(1)}/ops/api/state`, {
          headers: { authorization: `Bearer ${cluster.adminToken}` },
        });
        const s = (await res.json()) as {
          summary: Record<string, number>;
          connections_by_tenant: { tenant: string }[];
        };
        return s.summary.gateways === 2 &&
          s.summary.doc_services === 2 &&
          s.summary.history_workers === 1 &&
          s.summary.shards_owned === 16 &&
          s.connections_by_tenant.some((t) => t.tenant === tenantId)
          ? s
          : null;
      },
      20_000,
      'ops state with the whole cluster',
    );
    expect(state.summary.connections).toBeGreaterThanOrEqual(1);
  });

  itWithBrowser(
    'renders /ops in headless Chromium after the login form, with real data (screenshot)',
    async () => {
      fs.mkdirSync(path.join(ROOT, 'test-output'), { recursive: true });
      const browser: Browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      const page = await browser.newPage({ viewport: { width: 1400, height: 1500 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        // 401s of the login page itself are expected; anything else is a defect.
        if (m.type() === 'error' && !m.text().includes('status of 401')) errors.push(m.text());
      });
      page.on('response', (r) => {
        const url = new URL(r.url());
        if (r.status() >= 400 && !(r.status() === 401 && ['/ops', '/ops/login'].includes(url.pathname))) {
          errors.push(`${r.status()} ${url.pathname}`);
        }
      });
      /** Waits until the element's text contains `text` (the page re-renders every 2 s). */
      const waitForText = (selector: string, text: string) =>
        page.waitForFunction(
          ([sel, t]) => (document.querySelector(sel)?.textContent ?? '').includes(t),
          [selector, text] as const,
          { timeout: 30_000 },
        );
      try {
        const res = await page.goto(`${cluster.http(0)}/ops`);
        expect(res?.status()).toBe(401);
        await page.fill('#token', 'wrong-token');
        await page.click('button[type=submit]');
        await page.waitForSelector('p.error');
        await page.fill('#token', cluster.adminToken);
        await page.click('button[type=submit]');
        await page.waitForSelector('#status[data-state=ok]', { timeout: 30_000 });
        // Wait until a poll shows the whole cluster (heartbeats every 2 s).
        await page.waitForFunction(
          () =>
            document.querySelectorAll('#gateways tbody tr').length === 2 &&
            document.querySelectorAll('#doc-services tbody tr').length === 2 &&
            document.querySelector('.stat[data-key="shards owned"] .v')?.textContent === '16 / 16' &&
            document.querySelector('.stat[data-key="history workers"] .v')?.textContent === '1',
          undefined,
          { timeout: 30_000 },
        );
        expect(await page.locator('#shards .shard').count()).toBe(16);
        expect(await page.locator('#shards .shard.none').count()).toBe(0);
        await waitForText('#tenants', TENANT);
        await waitForText('#workspaces', 'ops-ws');
        await waitForText('#queues', 'git-commit');
        await waitForText('#gateways', '(this)');
        expect(errors).toEqual([]);
        const shot = path.join(ROOT, 'test-output/ops-page.png');
        await page.screenshot({ path: shot, fullPage: true });
        expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
      } catch (err) {
        // Keep what the browser showed, for the failure report.
        await page
          .screenshot({ path: path.join(ROOT, 'test-output/ops-page-failure.png'), fullPage: true })
          .catch(() => undefined);
        const body = await page.textContent('body').catch(() => '(no page)');
        throw new Error(
          `${(err as Error).message}\nbrowser errors: ${JSON.stringify(errors)}\npage text: ${body?.slice(0, 2000)}`,
        );
      } finally {
        await browser.close();
      }
    },
  );
});
