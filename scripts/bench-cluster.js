#!/usr/bin/env node
/**
 * Cluster benchmark (`npm run bench:cluster`, issue 4 "Performance budget"): starts the
 * `npm start` topology (one gateway, two doc services, embedded S3; random free ports, a fresh
 * Redis prefix and PostgreSQL schema so it never touches a running dev cluster), opens
 * DOCS × CLIENTS `/sync2` clients, and has every client insert into its doc's body at RATE
 * edits/s for SECONDS. Prints edit-to-delivery latency (p50/p99/max), deliveries expected vs
 * received, and whether every client and PostgreSQL ended with identical state.
 *
 * Env: BENCH_DOCS (50), BENCH_CLIENTS (4), BENCH_RATE (2), BENCH_SECONDS (60), plus the usual
 * REDIS_URL / DATABASE_URL. Exit code 0 when the budget holds (p99 ≤ 50 ms, zero loss, full
 * convergence), 1 otherwise.
 */
'use strict';

const crypto = require('node:crypto');
const net = require('node:net');
const { performance } = require('node:perf_hooks');
const WebSocket = require('ws');
const Y = require('yjs');
const { Pool } = require('pg');
const { launchCluster } = require('./start.js');

const DOCS = Number(process.env.BENCH_DOCS ?? 50);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 4);
const RATE = Number(process.env.BENCH_RATE ?? 2);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const P99_BUDGET_MS = 50;
const WORKSPACE = 'bench';

const log = (line) => console.log(`[bench] ${line}`);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function api(base, token, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => null);
  if (res.status >= 300) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** Marker inserted by one edit: `#<editId>;` (parsed back out of received updates). */
const MARKER = /#(\d+);/g;

/** One /sync2 client editing one body doc. */
class BenchClient {
  constructor(proto, url, docId, stats) {
    this.proto = proto;
    this.docId = docId;
    this.stats = stats;
    this.doc = new Y.Doc();
    this.synced = false;
    this.savedWaiters = [];
    this.ws = new WebSocket(url);
    this.ws.binaryType = 'nodebuffer';
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
    this.closeInfo = null;
    this.ws.on('close', (code, reason) => (this.closeInfo = { code, reason: reason.toString() }));
    this.ws.on('message', (data, isBinary) => (isBinary ? this.onBinary(data) : this.onText(data.toString())));
    this.doc.on('update', (update, origin) => {
      if (origin === this || this.ws.readyState !== WebSocket.OPEN) return;
      this.ws.send(this.proto.encodeFrame(this.docId, this.proto.encodeMessage({ type: 'update', update })));
    });
  }

  start() {
    this.ws.send(this.proto.encodeFrame(this.docId, this.proto.encodeMessage({ type: 'syncStep1', stateVector: Y.encodeStateVector(this.doc) })));
  }

  edit(editId) {
    const text = this.doc.getText('body');
    const pos = Math.floor(Math.random() * (text.length + 1));
    // Never split an earlier marker: insert only at a marker boundary.
    const s = text.toString();
    const boundary = s.lastIndexOf(';', pos - 1) + 1;
    this.stats.sentAt.set(editId, performance.now());
    text.insert(boundary, `#${editId};`);
  }

  save() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`save timeout for ${this.docId}`)), 30000);
      this.savedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.send(JSON.stringify({ action: 'save', doc: this.docId }));
    });
  }

  onText(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === 'saved' && msg.doc === this.docId) this.savedWaiters.shift()?.();
    if (msg.type === 'error') this.stats.errors.push(msg);
  }

  onBinary(data) {
    const now = performance.now();
    const frame = this.proto.decodeFrame(new Uint8Array(data));
    for (const m of this.proto.decodeMessages(frame.payload, 'sync2')) {
      if (m.type === 'syncStep1') {
        const update = Y.encodeStateAsUpdate(this.doc, m.stateVector);
        this.ws.send(this.proto.encodeFrame(this.docId, this.proto.encodeMessage({ type: 'syncStep2', update })));
      } else if (m.type === 'syncStep2' || m.type === 'update') {
        if (m.type === 'update') this.recordDeliveries(m.update, now);
        Y.applyUpdate(this.doc, m.update, this);
        if (m.type === 'syncStep2') this.synced = true;
      }
    }
  }

  recordDeliveries(update, now) {
    // The inserted strings sit as UTF-8 in the update bytes: find the markers without decoding.
    const text = Buffer.from(update.buffer, update.byteOffset, update.byteLength).toString('latin1');
    for (const match of text.matchAll(MARKER)) {
      const sent = this.stats.sentAt.get(Number(match[1]));
      if (sent !== undefined) this.stats.latencies.push(now - sent);
    }
  }

  close() {
    this.ws.close();
  }
}

/**
 * Approximate quantiles of `diaryx_update_stage_seconds` (measured from gateway receive) per
 * stage, summed over the given services' /metrics: where the latency goes.
 */
async function stageQuantiles(urls) {
  const buckets = new Map(); // stage -> Map(le -> count)
  for (const url of urls) {
    const text = await (await fetch(url)).text().catch(() => '');
    for (const m of text.matchAll(/^diaryx_update_stage_seconds_bucket\{([^}]*)\} (\S+)$/gm)) {
      const stage = /stage="([^"]+)"/.exec(m[1])?.[1];
      const le = /le="([^"]+)"/.exec(m[1])?.[1];
      if (!stage || !le) continue;
      const byLe = buckets.get(stage) ?? new Map();
      buckets.set(stage, byLe);
      byLe.set(le, (byLe.get(le) ?? 0) + Number(m[2]));
    }
  }
  const out = {};
  for (const [stage, byLe] of buckets) {
    const rows = [...byLe].map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), n]).sort((a, b) => a[0] - b[0]);
    const total = rows.at(-1)?.[1] ?? 0;
    const q = (p) => rows.find(([, n]) => n >= p * total)?.[0] ?? NaN;
    out[stage] = { count: total, p50: q(0.5) * 1000, p99: q(0.99) * 1000 };
  }
  return out;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main() {
  const id = crypto.randomBytes(4).toString('hex');
  const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `bench_${id}`;
  const admin = new Pool({ connectionString: baseUrl, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  const sep = baseUrl.includes('?') ? '&' : '?';
  const databaseUrl = `${baseUrl}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const adminToken = `bench-admin-${id}`;
  const [gatewayPort, ds1, ds2, hw, s3Port] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  log(`starting topology (gateway :${gatewayPort}, doc services :${ds1} :${ds2}, prefix bench${id}, schema ${schema}) ...`);
  let cluster;
  try {
    cluster = await launchCluster({
      log,
      gatewayPort,
      docServicePorts: [ds1, ds2],
      historyWorkerPort: hw,
      s3Port,
      demo: false,
      env: {
        DATABASE_URL: databaseUrl,
        REDIS_PREFIX: `bench${id}`,
        ADMIN_TOKEN: adminToken,
        LOG_LEVEL: 'warn',
        SYNC_UPDATE_RATE: '1000',
      },
    });
  } catch (err) {
    console.error(`[bench] could not start the cluster: ${err.message}`);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end();
    process.exit(1);
  }
  const proto = require('@diaryx-sync/protocol');
  const { PostgresStorage } = require('@diaryx-sync/crdt');
  const stats = { sentAt: new Map(), latencies: [], errors: [] };
  const clients = [];
  let exitCode = 1;
  try {
    const tenant = await api(cluster.httpBase, adminToken, 'POST', '/api/tenants', { name: 'bench' });
    await api(cluster.httpBase, tenant.admin_token, 'POST', '/api/workspaces', { id: WORKSPACE, name: 'Bench' });
    const { token } = await api(cluster.httpBase, tenant.admin_token, 'POST', '/api/tokens', { sub: 'bench', ws: [WORKSPACE], role: 'editor', ttl_s: 3600 });
    const url = `${cluster.wsBase}/sync2?token=${encodeURIComponent(token)}`;

    log(`opening ${DOCS} docs x ${CLIENTS} clients ...`);
    for (let d = 0; d < DOCS; d++) {
      for (let c = 0; c < CLIENTS; c++) clients.push(new BenchClient(proto, url, `body:${WORKSPACE}/doc-${String(d).padStart(3, '0')}.md`, stats));
    }
    await Promise.all(clients.map((c) => c.opened));
    for (const c of clients) c.start();
    const syncDeadline = Date.now() + 60000;
    while (clients.some((c) => !c.synced)) {
      if (Date.now() > syncDeadline) throw new Error('initial sync did not finish within 60 s');
      await new Promise((r) => setTimeout(r, 50));
    }

    log(`editing: ${RATE} edits/s per client for ${SECONDS} s ...`);
    let nextEdit = 1;
    const intervalMs = 1000 / RATE;
    const timers = clients.map((c) => {
      const start = setTimeout(() => {
        c.edit(nextEdit++);
        c.timer = setInterval(() => c.edit(nextEdit++), intervalMs);
      }, Math.random() * intervalMs);
      return () => {
        clearTimeout(start);
        clearInterval(c.timer);
      };
    });
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    timers.forEach((stop) => stop());
    const edits = nextEdit - 1;
    const expected = edits * (CLIENTS - 1);
    // Wait for the tail of deliveries.
    const tailDeadline = Date.now() + 15000;
    while (stats.latencies.length < expected && Date.now() < tailDeadline) await new Promise((r) => setTimeout(r, 100));
    await Promise.all(clients.map((c) => c.save()));

    // Convergence: the clients of a doc and PostgreSQL hold the same text.
    const pool = new Pool({ connectionString: baseUrl, options: `-c search_path=${schema}`, max: 4 });
    const storage = new PostgresStorage({ pool, tenant: tenant.id });
    let docsConverged = 0;
    let pgConverged = 0;
    for (let d = 0; d < DOCS; d++) {
      const group = clients.slice(d * CLIENTS, (d + 1) * CLIENTS);
      const texts = group.map((c) => c.doc.getText('body').toString());
      if (texts.every((t) => t === texts[0])) docsConverged++;
      const state = await storage.loadDoc(group[0].docId);
      const pgDoc = new Y.Doc();
      if (state) Y.applyUpdate(pgDoc, state);
      if (pgDoc.getText('body').toString() === texts[0]) pgConverged++;
    }
    await pool.end();

    const sorted = Float64Array.from(stats.latencies).sort();
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    const max = sorted[sorted.length - 1];
    const closes = clients.filter((c) => c.closeInfo).map((c) => c.closeInfo.code);
    const ok = p99 <= P99_BUDGET_MS && stats.latencies.length === expected && docsConverged === DOCS && pgConverged === DOCS;
    const lines = [
      '',
      `cluster benchmark: ${DOCS} docs x ${CLIENTS} /sync2 clients, ${RATE} edits/s/client, ${SECONDS} s (1 gateway, 2 doc services)`,
      `  edits sent               ${edits} (${(edits / SECONDS).toFixed(0)}/s)`,
      `  deliveries expected      ${expected}`,
      `  deliveries received      ${stats.latencies.length}${stats.latencies.length === expected ? ' (zero loss)' : ` (MISSING ${expected - stats.latencies.length})`}`,
      `  latency p50 / p99 / max  ${p50.toFixed(1)} / ${p99.toFixed(1)} / ${max.toFixed(1)} ms (budget p99 <= ${P99_BUDGET_MS} ms)`,
      `  clients converged        ${docsConverged}/${DOCS} docs`,
      `  PostgreSQL converged     ${pgConverged}/${DOCS} docs`,
      `  unexpected closes        ${closes.length}${closes.length ? ` (codes ${[...new Set(closes)].join(',')})` : ''}; error messages ${stats.errors.length}`,
      `  result                   ${ok ? 'PASS' : 'FAIL'}`,
      '',
    ];
    const stages = await stageQuantiles([gatewayPort, ds1, ds2].map((p) => `http://127.0.0.1:${p}/metrics`));
    for (const stage of ['applied', 'persisted', 'delivered']) {
      const st = stages[stage];
      if (st) lines.splice(lines.length - 2, 0, `  stage ${stage.padEnd(9)} (server)  p50 <= ${st.p50} ms, p99 <= ${st.p99} ms (histogram bucket bounds, ${st.count} samples)`);
    }
    console.log(lines.join('\n'));
    exitCode = ok ? 0 : 1;
  } catch (err) {
    console.error(`[bench] failed: ${err.stack ?? err.message}`);
  } finally {
    for (const c of clients) c.close();
    await cluster.stop();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end();
  }
  process.exit(exitCode);
}

void main();
