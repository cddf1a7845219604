/**
 * One tenant cannot hurt another (docs/limits.md, docs/workspace-deletion.md): each attack of a
 * hostile but authenticated user runs against a real cluster (2 gateways, 2 doc services) while a
 * writer in ANOTHER tenant measures its save latency. The attacker (its own process,
 * helpers/attacker.cjs) uses gateway 0, the victim gateway 1: gateways are stateless and scale out,
 * what tenants share cluster-wide are the doc services, Redis and PostgreSQL (the gateway-level
 * limits are asserted through the refusals). Every attack test:
 * - measures the victim's idle save p99 first, in the same test;
 * - shows the attacker refused or throttled (close codes / error messages);
 * - asserts the victim's p99 under attack stays within 2x its idle figure (with a floor of
 *   {@link P99_FLOOR_MS}: this 2-core machine is shared, but the attacks used to cost seconds);
 * - asserts no shard lease moved (`diaryx_shard_rebalances_total` of every doc service unchanged);
 * - asserts every acknowledged write of the victim is there when read back by a fresh client.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import WebSocket from 'ws';
import {
  bodyText,
  type CloseInfo,
  sleep,
  startCluster,
  Sync2TestClient,
  type TestCluster,
  type TestTenant,
  waitUntil,
} from './helpers/cluster';

jest.setTimeout(180_000);

/**
 * Below this, a p99 is noise: the test machine has 2 cores shared by many processes (load average
 * above 20 was observed), where any 100 ms burst of CPU anywhere becomes a second of wall time. The
 * attacks used to cost 2.3 s (focus flood) and 9.2 s (pending updates) on a quiet machine, many
 * times more here, so they still fail the bound.
 */
const P99_FLOOR_MS = 1000;
const SAMPLES = 60;

let cluster: TestCluster;
let victimTenant: TestTenant;
let attackerTenant: TestTenant;
let victim: Sync2TestClient;
const VICTIM_DOC = 'body:v/note.md';
let victimWrites = 0;

/** Save latencies (ms) of `n` rounds "edit, then save" by the victim. */
async function victimSaves(n: number): Promise<number[]> {
  const doc = victim.docs.get(VICTIM_DOC)!;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    doc.getText('body').insert(0, 'x');
    if (victim.ws.readyState !== WebSocket.OPEN)
      throw new Error(`victim closed: ${JSON.stringify(await victim.closed)}`);
    await victim.save(VICTIM_DOC, 30_000);
    victimWrites++;
    out.push(performance.now() - t0);
    await sleep(40);
  }
  return out;
}

function p99(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * 0.99) - 1)]!;
}

/** Lease events of every doc service (sum of `diaryx_shard_rebalances_total`). */
async function leaseMoves(): Promise<number> {
  let total = 0;
  for (const ds of cluster.docServices) {
    const text = await (await fetch(`http://127.0.0.1:${ds.port}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (line.startsWith('diaryx_shard_rebalances_total{')) total += Number(line.split(' ').pop());
    }
  }
  return total;
}

/** The victim's doc read back by a fresh client: every acknowledged write is there. */
async function expectVictimWritesKept(): Promise<void> {
  const reader = await Sync2TestClient.connect(cluster.ws(1), await cluster.token({ tid: victimTenant.id }));
  try {
    const doc = await reader.openSynced(VICTIM_DOC);
    expect(bodyText(doc).length).toBe(victimWrites);
  } finally {
    reader.close();
  }
}

function expectWithinBound(idle: number, under: number): void {
  const bound = Math.max(2 * idle, P99_FLOOR_MS);
  console.log(
    `victim save p99: idle ${idle.toFixed(1)} ms, under attack ${under.toFixed(1)} ms (bound ${bound.toFixed(1)} ms)`,
  );
  expect(under).toBeLessThanOrEqual(bound);
}

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, docServices: 2, shardCount: 16 });
  victimTenant = await cluster.createTenant('victim');
  attackerTenant = await cluster.createTenant('attacker');
  await cluster.createWorkspace(victimTenant, 'v');
  await cluster.createWorkspace(attackerTenant, 'a');
  victim = await Sync2TestClient.connect(cluster.ws(1), await cluster.token({ tid: victimTenant.id }));
  await victim.openSynced(VICTIM_DOC);
  await victimSaves(10); // warm-up: doc loaded, connections established
}, 60_000);

afterAll(async () => {
  victim?.close();
  await cluster?.stop();
});

/** What an attacker process did (see helpers/attacker.cjs). */
interface AttackSummary {
  sent: number;
  closes: CloseInfo[];
  texts: string[][];
  errors: string[];
}

/** Starts a hostile client in its own process; `stop()` ends it and returns its summary. */
function startAttacker(config: Record<string, unknown>): { stop(): Promise<AttackSummary> } {
  const child = spawn(process.execPath, [join(__dirname, 'helpers/attacker.cjs')], {
    env: { ...process.env, ATTACK: JSON.stringify({ url: cluster.ws(), ...config }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
      return JSON.parse(out.trim().split('\n').pop() ?? '{}') as AttackSummary;
    },
  };
}

describe('updates that can never apply (far-future clocks)', () => {
  it('are refused with 4400; the other tenant keeps its save latency and no lease moves', async () => {
    const idle = p99(await victimSaves(SAMPLES));
    const movesBefore = await leaseMoves();
    const token = await cluster.token({ tid: attackerTenant.id, role: 'editor' });
    const attack = startAttacker({ mode: 'far-future', token, perSecond: 300 });
    await sleep(1000); // let the flood build up
    let under: number;
    let summary: AttackSummary;
    try {
      under = p99(await victimSaves(SAMPLES));
    } finally {
      summary = await attack.stop();
    }
    expect(summary.errors).toEqual([]);
    expect(summary.sent).toBeGreaterThan(300);
    const refused = summary.closes.filter((c) => c.code === 4400 && /cannot apply/.test(c.reason));
    expect(refused.length).toBeGreaterThan(0);
    expectWithinBound(idle, under);
    expect(await leaseMoves()).toBe(movesBefore);
    await expectVictimWritesKept();
  });
});

describe('a viewer flooding a workspace with focus traffic', () => {
  it('is refused and throttled; fan-out stays bounded; the other tenant keeps its save latency', async () => {
    const idle = p99(await victimSaves(SAMPLES));
    const movesBefore = await leaseMoves();
    // a normal client of the attacked workspace, recording what it receives
    const bystander = await Sync2TestClient.connect(
      cluster.ws(),
      await cluster.token({ tid: attackerTenant.id }),
    );
    let focusBytes = 0;
    let focusMessages = 0;
    let largest = 0;
    bystander.ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      const text = data.toString('utf8');
      if (!text.includes('"focus_list_changed"')) return;
      focusMessages++;
      focusBytes += data.length;
      largest = Math.max(largest, data.length);
    });
    await bystander.openSynced('workspace:a');

    const viewerToken = await cluster.token({ tid: attackerTenant.id, role: 'viewer' });
    const started = Date.now();
    const attack = startAttacker({ mode: 'focus-flood', token: viewerToken, viewers: 20 });
    await sleep(500);
    let under: number;
    let summary: AttackSummary;
    try {
      under = p99(await victimSaves(SAMPLES));
    } finally {
      summary = await attack.stop();
    }
    const seconds = (Date.now() - started) / 1000;
    expect(summary.errors).toEqual([]);
    // refused at the door: the oversized message closed (4413), too many ids per message refused
    // (focus_limit, every other viewer), and the flood hit the control/focus rate limits (1008)
    expect(
      summary.closes.filter((c) => c.code === 4413 && c.reason === 'control message too large'),
    ).toHaveLength(1);
    const refusedFocus = summary.texts.filter((t) => t.some((m) => m.includes('"focus_limit"')));
    expect(refusedFocus.length).toBe(19);
    expect(summary.closes.filter((c) => c.code === 1008).length).toBeGreaterThan(0);
    // bounded fan-out: coalesced (≤ 4/s + slack) and no message above the bound
    console.log(
      `bystander: ${focusMessages} focus_list_changed, ${focusBytes} bytes, largest ${largest} bytes in ${seconds.toFixed(1)} s`,
    );
    expect(largest).toBeLessThanOrEqual(80 * 1024);
    expect(focusMessages).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 10);
    expectWithinBound(idle, under);
    expect(await leaseMoves()).toBe(movesBefore);
    await expectVictimWritesKept();
    bystander.close();
  });
});

describe('deleting a workspace', () => {
  it('closes its connections with 4403, acknowledges nothing after, and a re-created one starts empty everywhere', async () => {
    const admin = await cluster.createTenant('deleter');
    await cluster.createWorkspace(admin, 'gone');
    const editorToken = await cluster.token({ tid: admin.id, ws: ['gone'] });
    const writer = await Sync2TestClient.connect(cluster.ws(), editorToken);
    const doc = await writer.openSynced('body:gone/a.md');
    doc.getText('body').insert(0, 'before delete');
    await writer.save('body:gone/a.md');

    // keep writing and saving while the workspace is deleted
    let running = true;
    const savedAt: number[] = [];
    const writing = (async () => {
      while (running && writer.ws.readyState === WebSocket.OPEN) {
        doc.getText('body').insert(0, 'w');
        const before = writer.texts.length;
        writer.sendText(JSON.stringify({ action: 'save', doc: 'body:gone/a.md' }));
        await writer
          .waitFor(() => writer.texts.slice(before).some((t) => t.type === 'saved'), 2000, 'saved')
          .then(() => savedAt.push(Date.now()))
          .catch(() => undefined);
      }
    })();
    await sleep(300);
    const res = await fetch(`${cluster.http()}/api/workspaces/gone`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${admin.adminToken}` },
    });
    expect(res.status).toBe(204);
    const deletedAt = Date.now();
    const closed = await Promise.race([writer.closed, sleep(5000).then(() => null)]);
    running = false;
    await writing;
    expect(closed?.code).toBe(4403);
    expect(closed?.reason).toMatch(/workspace deleted|forbidden/);
    expect(savedAt.filter((t) => t > deletedAt)).toEqual([]);

    // nothing left in storage
    const rows = await cluster.pool.query(
      `SELECT count(*)::int AS n FROM crdt_updates WHERE tenant = $1 AND (doc = 'workspace:gone' OR doc LIKE 'body:gone/%')`,
      [admin.id],
    );
    expect(rows.rows[0].n).toBe(0);

    // re-created with the same id: empty on every path (no doc-service memory of the old one)
    await cluster.createWorkspace(admin, 'gone');
    const reader = await Sync2TestClient.connect(cluster.ws(), editorToken);
    const again = await reader.openSynced('body:gone/a.md');
    expect(bodyText(again)).toBe('');
    again.getText('body').insert(0, 'new life');
    await reader.save('body:gone/a.md');
    reader.close();
    const third = await Sync2TestClient.connect(cluster.ws(), editorToken);
    expect(bodyText(await third.openSynced('body:gone/a.md'))).toBe('new life');
    third.close();
    // the acknowledged write of the new workspace is durable (after a restart of the doc services)
    await Promise.all(cluster.docServices.map((d) => d.stop()));
    await cluster.startAll();
    await waitUntil(
      async () => {
        const c = await Sync2TestClient.connect(cluster.ws(), editorToken);
        try {
          return bodyText(await c.openSynced('body:gone/a.md', 5000)) === 'new life';
        } finally {
          c.close();
        }
      },
      30_000,
      'the re-created workspace after a restart',
    );
  });
});
