/**
 * The /ops page as an operator sees it (in-process gateway, real PostgreSQL/Redis, headless
 * Chromium): workspaces by tenant id, failed validations readable (kind · file — message), the
 * complete shard list, and every self-healing action (repair and rebuild) with what it changed and
 * where the backup is; Bull Board loads nothing from the internet. Screenshots:
 * test-output/ops-page-healing.png, test-output/ops-queues.png.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { instanceKey } from '@diaryx-sync/bus';
import { AuditLog } from '@diaryx-sync/git-store';
import type { RedisClient } from '@diaryx-sync/runtime';
import { ADMIN_TOKEN, type GatewayHarness, api } from '../../apps/gateway/test/api-harness';
import { haveChromium, launchChromium } from '../../apps/gateway/test/helpers/chromium';
import { ROOT } from './lib/apps';
import { startOpsGateway, stopOpsGateway } from './lib/ops-gateway';

let gw: GatewayHarness;
let redis: RedisClient;

beforeAll(async () => {
  ({ gw, redis } = await startOpsGateway({ SHARD_COUNT: '16' }));
});

afterAll(() => stopOpsGateway(gw, redis));

(haveChromium ? it : it.skip)(
  'shows repairs and rebuilds with changes and backups, readable validation failures, tenant ids and all shards',
  async () => {
    // Two tenants with the same display name: only the id tells them apart.
    const a = await api(gw.baseUrl, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: { name: 'acme' } });
    const b = await api(gw.baseUrl, 'POST', '/api/tenants', { token: ADMIN_TOKEN, body: { name: 'acme' } });
    for (const t of [a, b])
      await api(gw.baseUrl, 'POST', '/api/workspaces', {
        token: t.body.admin_token,
        body: { id: 'journal' },
      });
    const shards = Array.from({ length: 16 }, (_, i) => i);
    for (const [id, own] of [
      ['ds-a', shards.filter((s) => s % 2 === 0)],
      ['ds-b', shards.filter((s) => s % 2 === 1)],
    ] as const) {
      const now = new Date().toISOString();
      await redis.set(
        instanceKey(gw.prefix, 'doc-service', id),
        JSON.stringify({
          id,
          kind: 'doc-service',
          started_at: now,
          updated_at: now,
          shards: own,
          docs_loaded: 3,
        }),
        'PX',
        60_000,
      );
    }
    const audit = new AuditLog(gw.pool);
    await audit.record({
      tenant: a.body.id,
      workspace: 'journal',
      event: 'validation_failed',
      actor: 'system',
      commit_id: null,
      backup_key: null,
      details: {
        consecutive_failures: 2,
        issues: [{ kind: 'orphan_body', file: 'notes/lost.md', message: 'body doc has no workspace entry' }],
      },
    });
    await audit.record({
      tenant: a.body.id,
      workspace: 'journal',
      event: 'repair',
      actor: 'system',
      commit_id: null,
      backup_key: 'backups/t/journal/2026-12-03T12-00-00Z.zip',
      details: {
        changes: [{ kind: 'adopt_orphan', file: 'notes/lost.md', message: 'moved to lost+found/' }],
      },
    });
    await audit.record({
      tenant: b.body.id,
      workspace: 'journal',
      event: 'rebuild',
      actor: 'system',
      commit_id: 'c0ffee1234567890abcdef',
      backup_key: 'refs/backups/2026-12-03T12-05-00Z',
      details: { reason: 'unreadable CRDT', docs_updated: 4, valid: true },
    });

    const browser = await launchChromium();
    try {
      const context = await browser.newContext({
        viewport: { width: 1400, height: 1000 },
        extraHTTPHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      const page = await context.newPage();
      const external: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(gw.baseUrl)) external.push(r.url());
      });
      await page.goto(`${gw.baseUrl}/ops`);
      await page.waitForSelector('#status[data-state=ok]', { timeout: 15_000 });
      await page.waitForFunction(() => document.querySelector('#rebuilds table') !== null, null, {
        timeout: 15_000,
      });
      const text = (sel: string) => page.locator(sel).innerText();
      const repairs = await text('#repairs');
      expect(repairs).toContain('backups/t/journal/2026-12-03T12-00-00Z.zip');
      expect(repairs).toContain('adopt_orphan · notes/lost.md — moved to lost+found/');
      expect(repairs).toContain(a.body.id);
      const rebuilds = await text('#rebuilds');
      expect(rebuilds).toContain('refs/backups/2026-12-03T12-05-00Z');
      expect(rebuilds).toContain('docs_updated: 4');
      expect(rebuilds).toContain(b.body.id);
      expect(await text('#validations')).toContain(
        'orphan_body · notes/lost.md — body doc has no workspace entry',
      );
      const workspaces = await text('#workspaces');
      expect(workspaces).toContain(a.body.id);
      expect(workspaces).toContain(b.body.id);
      const docServices = await text('#doc-services');
      expect(docServices).toContain('8: 0, 2, 4, 6, 8, 10, 12, 14');
      expect(docServices).toContain('8: 1, 3, 5, 7, 9, 11, 13, 15');
      expect(external).toEqual([]);
      fs.mkdirSync(path.join(ROOT, 'test-output'), { recursive: true });
      await page.screenshot({ path: path.join(ROOT, 'test-output/ops-page-healing.png'), fullPage: true });

      // Bull Board (the "queues" link) renders its UI with nothing loaded from another origin.
      await page.goto(`${gw.baseUrl}/ops/queues`);
      await page.waitForLoadState('networkidle');
      expect(await page.locator('#root').innerText()).toMatch(/compaction/i);
      expect(external).toEqual([]);
      await page.screenshot({ path: path.join(ROOT, 'test-output/ops-queues.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  },
);
