/**
 * Every scenario for a few seconds against the real local stack (the `npm start` topology on
 * free ports, as `--local` starts it), checking the JSON result's fields and zero loss; the
 * `diaryx-sync loadtest` command end to end (--local: exit 0, JSON + HTML; against a server that
 * drops updates: exit 9); the HTML report in headless Chromium.
 * Needs `npm run build` first (the load workers and the CLI run from dist).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runScenario, writeReports, type ScenarioKnobs } from '../src/run';
import type { RunResult, ScenarioName } from '../src/result';
import { REPO_ROOT, startLocalCluster } from '../src/target/local-cluster';
import type { Target } from '../src/target/target';
import { haveChromium, launchChromium } from '../../gateway/test/helpers/chromium';
import { startLossyServer } from './helpers/lossy-server';

jest.setTimeout(240_000);

const CLI = path.join(REPO_ROOT, 'apps/cli/dist/main.js');
const itWithBrowser = haveChromium ? it : it.skip;
const OUT = fs.mkdtempSync(path.join(os.tmpdir(), 'loadtest-results-'));

/** Small sizes: a few seconds per scenario. */
const KNOBS: ScenarioKnobs = {
  docs: 6,
  clients: 3,
  rate: 2,
  duration: 3,
  warmup: 1,
  drain: 30,
  connections: 60,
  hold: 1,
  updates: 300,
  repetitions: 2,
  sizeMb: 0.25,
  killAfter: 1,
  down: 2,
};

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function expectCommonFields(r: RunResult, scenario: ScenarioName): void {
  expect(r.tool).toBe('diaryx-sync loadtest');
  expect(r.scenario).toBe(scenario);
  expect(r.target.local).toBe(true);
  expect(r.failures).toEqual([]);
  expect(r.ok).toBe(true);
  expect(r.loss.lostEdits).toBe(0);
  expect(r.loss.missingDeliveries).toBe(0);
  expect(r.latency?.count).toBeGreaterThan(0);
  expect(r.histogram.length).toBeGreaterThan(0);
  expect(r.timeline.length).toBeGreaterThan(0);
  expect(r.server.source).toBe('proc');
  expect(r.server.services.map((s) => s.name).sort()).toEqual([
    'doc-service-1',
    'doc-service-2',
    'gateway',
    'history-worker',
  ]);
  for (const s of r.server.services) expect(s.rssMaxBytes).toBeGreaterThan(10 << 20);
  expect(r.machine.cpus).toBeGreaterThan(0);
  // Redis and PostgreSQL are reported apart from the server (both run on this machine in tests)
  expect(r.machine.backing.map((b) => b.name)).toEqual(['Redis', 'PostgreSQL']);
  for (const b of r.machine.backing) expect(b.cpuCores).toBeGreaterThanOrEqual(0);
  expect(typeof r.saturation.saturated).toBe('boolean');
  expect(r.generator.eventLoopDelayP99Ms).toBeGreaterThanOrEqual(0);
}

/** Runs a scenario and reads its result back from the JSON file (what users get). */
async function runAndReadJson(target: Target, scenario: ScenarioName): Promise<RunResult> {
  const result = await runScenario({ target, workers: 2, log: () => undefined }, scenario, KNOBS);
  const { jsonPath, htmlPath } = writeReports(result, OUT, scenario);
  expect(fs.existsSync(htmlPath)).toBe(true);
  const parsed = JSON.parse(fs.readFileSync(jsonPath, 'utf8')) as RunResult;
  if (!parsed.ok) throw new Error(`${scenario} failed: ${parsed.failures.join('; ')}`);
  return parsed;
}

const fig = (r: RunResult, key: string) => r.figures.find((f) => f.key === key)?.value;

/** The JSON result a CLI run wrote into `out`. */
const resultIn = (out: string): RunResult =>
  JSON.parse(
    fs.readFileSync(
      path.join(
        out,
        fs.readdirSync(out).find((f) => f.endsWith('.json'))!,
      ),
      'utf8',
    ),
  ) as RunResult;

/** The local stack's ADMIN_TOKEN, for the `--admin-token` run. */
const ADMIN_TOKEN = `loadtest-test-admin-${process.pid}`;

describe('loadtest against the local stack', () => {
  let target: Target;

  beforeAll(async () => {
    target = await startLocalCluster({ protocol: 'sync2', adminToken: ADMIN_TOKEN });
  });
  afterAll(async () => {
    await target?.close();
  });

  it('fanout: every delivery arrives, clients and a fresh load converge', async () => {
    const r = await runAndReadJson(target, 'fanout');
    expectCommonFields(r, 'fanout');
    // 6 docs × 3 clients × 2 edits/s × 4 s ≈ 144 edits, each to 2 other clients.
    expect(r.loss.editsSent).toBeGreaterThan(100);
    expect(r.loss.deliveriesExpected).toBe(r.loss.editsSent * 2);
    expect(r.loss.deliveriesReceived).toBe(r.loss.deliveriesExpected);
    expect(r.convergence).toMatchObject({ docs: 6, convergedDocs: 6, freshMatchingDocs: 6 });
    expect(fig(r, 'deliveries_per_second')).toBeGreaterThan(0);
    expect(r.timeline.some((p) => p.t < 0)).toBe(true); // the warm-up second
    expect(r.timeline.filter((p) => p.t >= 0 && p.t < 3).every((p) => p.sent > 0)).toBe(true);
  });

  it('connections: all connect, none dropped, memory per connection measured', async () => {
    const r = await runAndReadJson(target, 'connections');
    expectCommonFields(r, 'connections');
    expect(fig(r, 'connections_open')).toBe(60);
    expect(fig(r, 'connections_dropped')).toBe(0);
    expect(fig(r, 'connect_p99_ms')).toBeGreaterThan(0);
    expect(Number.isFinite(fig(r, 'server_bytes_per_connection'))).toBe(true);
  });

  it('ingest: the second client sees every update', async () => {
    const r = await runAndReadJson(target, 'ingest');
    expectCommonFields(r, 'ingest');
    expect(r.loss.deliveriesReceived).toBe(300);
    expect(fig(r, 'updates_per_second')).toBeGreaterThan(0);
    expect(fig(r, 'all_seen_ms')).toBeGreaterThan(0);
  });

  it('coldload: after a doc-service restart a fresh client gets every update', async () => {
    const r = await runAndReadJson(target, 'coldload');
    expectCommonFields(r, 'coldload');
    expect(r.latency?.count).toBe(2);
    expect(fig(r, 'coldload_p50_ms')).toBeGreaterThan(0);
    expect(r.notes.join(' ')).toMatch(/restarted both doc services/);
  });

  it('joinstorm: every joining client gets the full doc', async () => {
    const r = await runAndReadJson(target, 'joinstorm');
    expectCommonFields(r, 'joinstorm');
    expect(r.latency?.count).toBe(3);
    expect(fig(r, 'join_max_ms')).toBeGreaterThan(0);
  });

  it('failover: a SIGKILLed doc service loses no acknowledged update', async () => {
    const r = await runAndReadJson(target, 'failover');
    expectCommonFields(r, 'failover');
    expect(fig(r, 'acknowledged_lost')).toBe(0);
    expect(fig(r, 'recovery_ms')).toBeGreaterThan(0);
    expect(r.convergence).toMatchObject({ docs: 6, convergedDocs: 6, freshMatchingDocs: 6 });
  });

  it('fanout by URL and token against the running stack reads the gateway /metrics before and after', async () => {
    const { base, token } = target.endpoints[0];
    const workspace = /^body:([^/]+)\//.exec(target.docId('x'))![1];
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'loadtest-cli-'));
    const r = await runCli([
      'loadtest',
      'fanout',
      '--server',
      base,
      '--token',
      token,
      '--workspace',
      workspace,
      '--docs',
      '3',
      '--clients',
      '2',
      '--duration',
      '2',
      '--warmup',
      '1',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    const json = resultIn(out);
    expect(json.target.local).toBe(false);
    expect(json.server.source).toBe('metrics');
    const [before, after] = [json.server.metrics!.before[0], json.server.metrics!.after[0]];
    expect(after.url).toBe(`${base.replace('ws://', 'http://')}/metrics`);
    expect(after.cpuSeconds).toBeGreaterThan(before.cpuSeconds);
    expect(after.rssBytes).toBeGreaterThan(10 << 20);
    expect(json.loss.deliveriesReceived).toBe(json.loss.deliveriesExpected);
    expect(json.convergence).toMatchObject({ docs: 3, convergedDocs: 3, freshMatchingDocs: 3 });
  });

  it('--admin-token creates its own tenant, workspace and token through the HTTP API', async () => {
    const { base } = target.endpoints[0];
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'loadtest-admin-'));
    const r = await runCli(
      ['loadtest', 'connections', '--server', base, '--admin-token', ADMIN_TOKEN].concat([
        '--connections',
        '12',
        '--docs',
        '3',
        '--hold',
        '1',
        '--out',
        out,
      ]),
    );
    expect(r.code).toBe(0);
    const json = resultIn(out);
    expect(json.target.local).toBe(false);
    expect(fig(json, 'connections_open')).toBe(12);
    // a wrong admin token is refused before any load
    const refused = await runCli(['loadtest', 'connections', '--server', base, '--admin-token', 'wrong']);
    expect(refused.code).toBe(1);
  });

  itWithBrowser('the HTML report renders in headless Chromium with data in every chart', async () => {
    const html = path.join(OUT, 'fanout.html');
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 960, height: 1200 } });
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      await page.goto(`file://${html}`);
      expect(await page.textContent('#result')).toBe('PASS');
      const charts = await page.$$eval('svg.chart', (els) =>
        els.map((e) => ({
          points: Number(e.getAttribute('data-points')),
          height: e.getBoundingClientRect().height,
        })),
      );
      expect(charts.length).toBe(6);
      for (const c of charts) {
        expect(c.points).toBeGreaterThan(0);
        expect(c.height).toBeGreaterThan(100);
      }
      expect(
        await page.$$eval(
          'svg.chart path',
          (ps) => ps.filter((p) => (p.getAttribute('d') ?? '').length > 10).length,
        ),
      ).toBeGreaterThan(5);
      expect(requests.filter((u) => !u.startsWith('file://'))).toEqual([]);
      fs.mkdirSync(path.join(REPO_ROOT, 'test-output'), { recursive: true });
      await page.screenshot({
        path: path.join(REPO_ROOT, 'test-output/loadtest-report.png'),
        fullPage: true,
      });
    } finally {
      await browser.close();
    }
  });
});

describe('diaryx-sync loadtest (the command)', () => {
  it('--local fanout prints the summary, writes JSON + HTML and exits 0', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'loadtest-cli-'));
    const r = await runCli([
      'loadtest',
      'fanout',
      '--local',
      '--docs',
      '3',
      '--clients',
      '2',
      '--duration',
      '2',
      '--warmup',
      '1',
      '--out',
      out,
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/result\s+PASS/);
    const files = fs.readdirSync(out);
    expect(files.filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect(files.filter((f) => f.endsWith('.html'))).toHaveLength(1);
    const json = JSON.parse(
      fs.readFileSync(
        path.join(
          out,
          files.find((f) => f.endsWith('.json'))!,
        ),
        'utf8',
      ),
    ) as RunResult;
    expect(json.loss.missingDeliveries).toBe(0);
    expect(json.params).toMatchObject({ docs: 3, clients_per_doc: 2 });
  });

  it('exits 9 and names the loss against a server that drops updates', async () => {
    const lossy = await startLossyServer(7);
    try {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'loadtest-cli-'));
      const r = await runCli([
        'loadtest',
        'fanout',
        '--server',
        `ws://127.0.0.1:${lossy.port}`,
        '--token',
        't',
        '--workspace',
        'w',
        '--protocol',
        'yjs',
        '--docs',
        '3',
        '--clients',
        '2',
        '--duration',
        '2',
        '--warmup',
        '0',
        '--drain',
        '2',
        '--out',
        out,
      ]);
      expect(lossy.dropped()).toBeGreaterThan(0);
      expect(r.code).toBe(9);
      expect(r.stdout).toMatch(/result\s+FAIL: \d+ deliveries missing/);
      expect(r.stdout).toMatch(/edits lost: absent from a fresh load/);
    } finally {
      await lossy.close();
    }
  });

  it('refuses a remote run without credentials (exit 2)', async () => {
    const r = await runCli(['loadtest', 'fanout', '--server', 'ws://127.0.0.1:1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--admin-token, or --token with --workspace/);
  });
});
