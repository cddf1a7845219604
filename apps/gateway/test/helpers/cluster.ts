/**
 * Test helper: spawns a REAL cluster topology (gateway and doc-service processes from `dist`)
 * on random ports, a random Redis prefix and a fresh PostgreSQL schema, plus a raw `/sync2`
 * test client that keeps one `Y.Doc` per doc id. Requires `npm run build` first (root `npm test`
 * does it). Share one cluster per test file; `stop()` kills every process and drops the schema.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  decodeFrame,
  decodeMessages,
  encodeFrame,
  encodeMessage,
  type ProtocolMessage,
} from '@diaryx-sync/protocol';
import {
  createRedis,
  loadServiceConfig,
  redisTopologyEnv,
  redisTopologyOf,
  type RedisClient,
  type RedisTopology,
} from '@diaryx-sync/runtime';
import { SignJWT } from 'jose';
import { Pool } from 'pg';
import WebSocket from 'ws';
import * as Y from 'yjs';

const ROOT = resolve(__dirname, '../../../..');
const GATEWAY_MAIN = join(ROOT, 'apps/gateway/dist/main.js');
const DOC_SERVICE_MAIN = join(ROOT, 'apps/doc-service/dist/main.js');
const HISTORY_WORKER_MAIN = join(ROOT, 'apps/history-worker/dist/main.js');

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The Redis the tests run against: the environment's topology (`REDIS_CLUSTER_NODES` →
 * Redis Cluster, as `npm run test:redis-cluster` sets it; `REDIS_SENTINELS` → Sentinel), else
 * `REDIS_URL`.
 */
export function testRedisTopology(): RedisTopology {
  return redisTopologyOf(loadServiceConfig({ ...process.env, REDIS_URL }));
}

/** A test-side client of `topology` (default {@link testRedisTopology}); disconnect it when done. */
export function connectTestRedis(topology: RedisTopology = testRedisTopology()): RedisClient {
  const redis = createRedis(topology);
  redis.on('error', () => undefined);
  return redis;
}

/** A free TCP port on 127.0.0.1 (asked from the OS). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Sleeps `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`,
      );
    }
    await sleep(50);
  }
}

/** One spawned service process. */
export class ServiceProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly main: string,
    readonly port: number,
    readonly env: NodeJS.ProcessEnv,
    readonly logFile: string,
  ) {}

  /** OS process id while it runs (for /proc readings). */
  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until `GET /healthz` answers 200. */
  async start(): Promise<void> {
    if (!existsSync(this.main)) throw new Error(`${this.main} is missing: run \`npm run build\` first`);
    const out = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [this.main], { env: this.env, stdio: ['ignore', out, out] });
    closeSync(out);
    this.child = child;
    this.exitPromise = new Promise((r) => child.once('exit', () => r()));
    await waitUntil(
      async () => {
        if (!this.running) return true; // exited early: fail at once, not after the timeout
        const res = await fetch(`http://127.0.0.1:${this.port}/healthz`).catch(() => null);
        return res?.status === 200;
      },
      // generous: on a loaded 2-core CI machine a fresh gateway needs 10-30 s to start
      60_000,
      `${this.name} /healthz`,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n--- ${this.name} log ---\n${this.logTail()}`);
    });
    if (!this.running) throw new Error(`${this.name} exited early:\n${this.logTail()}`);
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs`). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child!.kill(signal);
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** Exit code or signal of the last run. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } {
    return { code: this.child?.exitCode ?? null, signal: this.child?.signalCode ?? null };
  }

  /** The last lines of the process's output. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no output)';
    }
  }
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  gateways?: number;
  docServices?: number;
  /** Extra environment for every process. */
  env?: NodeJS.ProcessEnv;
  /** Extra environment for gateways only. */
  gatewayEnv?: NodeJS.ProcessEnv;
  /** Virtual shard count (default 16). */
  shardCount?: number;
  /** Wait for every gateway's `/readyz` (needs a live doc service). Default true. */
  waitReady?: boolean;
  /** The Redis every process uses (default {@link testRedisTopology}). */
  redis?: RedisTopology;
}

/** A tenant created through the HTTP API. */
export interface TestTenant {
  id: string;
  adminToken: string;
}

/** A running test cluster. */
export class TestCluster {
  readonly pool: Pool;

  constructor(
    readonly prefix: string,
    readonly schema: string,
    readonly databaseUrl: string,
    readonly jwtSecret: string,
    readonly adminToken: string,
    readonly gateways: ServiceProcess[],
    readonly docServices: ServiceProcess[],
    readonly logDir: string,
    /** The environment every service of this cluster shares (without `PORT`). */
    readonly env: NodeJS.ProcessEnv = {},
  ) {
    this.pool = new Pool({ connectionString: DATABASE_URL, options: `-c search_path=${schema}`, max: 3 });
    this.pool.on('error', () => undefined);
  }

  /**
   * A history-worker process wired to this cluster (same Redis prefix, schema, secrets and
   * `options.env`) on a free port; not started yet.
   */
  async historyWorker(name = 'history-worker'): Promise<ServiceProcess> {
    const port = await freePort();
    return new ServiceProcess(
      name,
      HISTORY_WORKER_MAIN,
      port,
      { ...this.env, PORT: String(port) },
      join(this.logDir, `${name}.log`),
    );
  }

  /** `http://127.0.0.1:{port}` of gateway `i`. */
  http(i = 0): string {
    return `http://127.0.0.1:${this.gateways[i]!.port}`;
  }

  /** `ws://127.0.0.1:{port}` of gateway `i`. */
  ws(i = 0): string {
    return `ws://127.0.0.1:${this.gateways[i]!.port}`;
  }

  /** Creates a tenant with the cluster ADMIN_TOKEN. */
  async createTenant(name: string): Promise<TestTenant> {
    const res = await fetch(`${this.http()}/api/tenants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.adminToken}` },
      body: JSON.stringify({ name }),
    });
    const body = (await res.json()) as { id: string; admin_token: string };
    if (res.status !== 201) throw new Error(`create tenant: HTTP ${res.status} ${JSON.stringify(body)}`);
    return { id: body.id, adminToken: body.admin_token };
  }

  /** Creates a workspace in the tenant of `adminToken`. */
  async createWorkspace(tenant: TestTenant, id: string, name = id): Promise<void> {
    const res = await fetch(`${this.http()}/api/workspaces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tenant.adminToken}` },
      body: JSON.stringify({ id, name }),
    });
    if (res.status !== 201) throw new Error(`create workspace: HTTP ${res.status} ${await res.text()}`);
  }

  /** Signs a token directly with the cluster secret (any claims, including expired ones). */
  async token(claims: {
    tid: string;
    ws?: string[];
    role?: 'editor' | 'viewer' | 'admin';
    sub?: string;
    ttlSeconds?: number;
  }): Promise<string> {
    const exp = Math.floor(Date.now() / 1000) + (claims.ttlSeconds ?? 3600);
    return new SignJWT({ tid: claims.tid, ws: claims.ws ?? ['*'], role: claims.role ?? 'editor' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.sub ?? 'tester')
      .setIssuedAt()
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(this.jwtSecret));
  }

  /** Starts every stopped process again (doc services first), then waits for readiness. */
  async startAll(waitReady = true): Promise<void> {
    await Promise.all(this.docServices.filter((p) => !p.running).map((p) => p.start()));
    await Promise.all(this.gateways.filter((p) => !p.running).map((p) => p.start()));
    if (waitReady) await this.waitReady();
  }

  /** Waits until every running gateway's `/readyz` answers 200. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    for (const g of this.gateways.filter((p) => p.running)) {
      await waitUntil(
        async () => (await fetch(`http://127.0.0.1:${g.port}/readyz`).catch(() => null))?.status === 200,
        timeoutMs,
        `${g.name} /readyz`,
      );
    }
  }

  /** Stops every process gracefully (gateways first). */
  async stopProcesses(): Promise<void> {
    await Promise.all(this.gateways.map((p) => p.stop()));
    await Promise.all(this.docServices.map((p) => p.stop()));
  }

  /** Stops everything, drops the schema and the prefix's Redis keys. */
  async stop(): Promise<void> {
    await this.stopProcesses();
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`).catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  /** Logs of every process (for failure messages). */
  logs(lines = 20): string {
    return [...this.gateways, ...this.docServices]
      .map((p) => `--- ${p.name} ---\n${p.logTail(lines)}`)
      .join('\n');
  }
}

/**
 * Starts doc services, then gateways, on random ports with a fresh schema and Redis prefix, and
 * waits until every gateway is ready.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<TestCluster> {
  const id = randomBytes(4).toString('hex');
  const prefix = `t${id}`;
  const schema = `t_cluster_${id}`;
  const admin = new Pool({ connectionString: DATABASE_URL, max: 1 });
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const sep = DATABASE_URL.includes('?') ? '&' : '?';
  const databaseUrl = `${DATABASE_URL}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const jwtSecret = `test-secret-${randomBytes(12).toString('hex')}`;
  const adminToken = `admin-${randomBytes(12).toString('hex')}`;
  const logDir = mkdtempSync(join(tmpdir(), `cluster-${id}-`));
  const env: NodeJS.ProcessEnv = {
    ...withoutRedisTopology(process.env),
    NODE_ENV: 'test',
    ...redisTopologyEnv(options.redis ?? testRedisTopology()),
    REDIS_PREFIX: prefix,
    DATABASE_URL: databaseUrl,
    JWT_SECRET: jwtSecret,
    ADMIN_TOKEN: adminToken,
    SHARD_COUNT: String(options.shardCount ?? 16),
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  const docServices: ServiceProcess[] = [];
  for (let i = 0; i < (options.docServices ?? 2); i++) {
    const port = await freePort();
    docServices.push(
      new ServiceProcess(
        `doc-service-${i}`,
        DOC_SERVICE_MAIN,
        port,
        { ...env, PORT: String(port), DOC_SERVICE_ID: `ds-${id}-${i}` },
        join(logDir, `doc-service-${i}.log`),
      ),
    );
  }
  const gateways: ServiceProcess[] = [];
  for (let i = 0; i < (options.gateways ?? 1); i++) {
    const port = await freePort();
    gateways.push(
      new ServiceProcess(
        `gateway-${i}`,
        GATEWAY_MAIN,
        port,
        { ...env, ...options.gatewayEnv, PORT: String(port) },
        join(logDir, `gateway-${i}.log`),
      ),
    );
  }
  const cluster = new TestCluster(
    prefix,
    schema,
    databaseUrl,
    jwtSecret,
    adminToken,
    gateways,
    docServices,
    logDir,
    env,
  );
  try {
    await cluster.startAll(options.waitReady ?? true);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** `env` without the variables that select a Redis topology (the cluster sets its own). */
function withoutRedisTopology(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const k of ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME'])
    delete out[k];
  return out;
}

/** How a socket closed. */
export interface CloseInfo {
  code: number;
  reason: string;
}

/** Opens a raw WebSocket; rejects with `HTTP <status>` when the upgrade is refused. */
export function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolveSocket, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolveSocket(ws));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

/** Resolves with the close code/reason of `ws` (immediately if already closed). */
export function closedOf(ws: WebSocket): Promise<CloseInfo> {
  return new Promise((r) => {
    if (ws.readyState === WebSocket.CLOSED) r({ code: -1, reason: 'already closed' });
    ws.once('close', (code, reason) => r({ code, reason: reason.toString() }));
  });
}

/**
 * A raw `/sync2` client for tests: one `Y.Doc` per doc id, answers SyncStep1, applies
 * SyncStep2/Update, sends local changes as Update frames, and records every text message.
 */
export class Sync2TestClient {
  readonly docs = new Map<string, Y.Doc>();
  readonly texts: Record<string, unknown>[] = [];
  readonly closed: Promise<CloseInfo>;
  /** Doc ids for which the server's SyncStep2 arrived. */
  readonly synced = new Set<string>();
  private readonly listeners = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    this.closed = closedOf(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.onBinary(new Uint8Array(data));
      else {
        try {
          this.texts.push(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
        } catch {
          this.texts.push({ unparsable: data.toString('utf8') });
        }
      }
      for (const l of this.listeners) l();
    });
  }

  /** Connects to `${base}/sync2?token=`. */
  static async connect(base: string, token: string): Promise<Sync2TestClient> {
    return new Sync2TestClient(await openSocket(`${base}/sync2?token=${encodeURIComponent(token)}`));
  }

  /** Opens (subscribes to) a doc: sends SyncStep1 and returns its local `Y.Doc`. */
  open(docId: string): Y.Doc {
    let doc = this.docs.get(docId);
    if (doc) return doc;
    doc = new Y.Doc();
    this.docs.set(docId, doc);
    doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== this && this.ws.readyState === WebSocket.OPEN) {
        this.ws.send(encodeFrame(docId, encodeMessage({ type: 'update', update })));
      }
    });
    this.sendMessage(docId, { type: 'syncStep1', stateVector: Y.encodeStateVector(doc) });
    return doc;
  }

  /** Opens a doc and waits for the server's SyncStep2. */
  async openSynced(docId: string, timeoutMs = 15_000): Promise<Y.Doc> {
    const doc = this.open(docId);
    await this.waitFor(() => this.synced.has(docId), timeoutMs, `SyncStep2 for ${docId}`);
    return doc;
  }

  /** Sends one y-protocols message for `docId`. */
  sendMessage(docId: string, message: ProtocolMessage): void {
    this.ws.send(encodeFrame(docId, encodeMessage(message)));
  }

  /** Sends raw bytes as a binary frame. */
  sendRaw(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  /** Sends a text frame. */
  sendText(text: string): void {
    this.ws.send(text);
  }

  /** Sends `{"action":"save"}` and waits for `saved`. */
  async save(docId: string, timeoutMs = 15_000): Promise<void> {
    const before = this.texts.length;
    this.sendText(JSON.stringify({ action: 'save', doc: docId }));
    await this.waitFor(
      () => this.texts.slice(before).some((t) => t.type === 'saved' && t.doc === docId),
      timeoutMs,
      `saved for ${docId}`,
    );
  }

  /** Waits until `check()` holds (re-checked on every message and every 50 ms). */
  async waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolveWait, reject) => {
      const done = () => {
        clearTimeout(timer);
        clearInterval(poll);
        this.listeners.delete(listener);
      };
      const listener = () => {
        if (check()) {
          done();
          resolveWait();
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const poll = setInterval(listener, 50);
      this.listeners.add(listener);
    });
  }

  /** Text messages received so far of the given `type`. */
  textsOfType(type: string): Record<string, unknown>[] {
    return this.texts.filter((t) => t.type === type);
  }

  /** Closes the socket. */
  close(): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
  }

  private onBinary(bytes: Uint8Array): void {
    const frame = decodeFrame(bytes);
    const doc = this.docs.get(frame.docId);
    if (!doc) return;
    for (const m of decodeMessages(frame.payload, 'sync2')) {
      if (m.type === 'syncStep1') {
        this.sendMessage(frame.docId, {
          type: 'syncStep2',
          update: Y.encodeStateAsUpdate(doc, m.stateVector),
        });
      } else if (m.type === 'syncStep2' || m.type === 'update') {
        Y.applyUpdate(doc, m.update, this);
        if (m.type === 'syncStep2') this.synced.add(frame.docId);
      }
    }
  }
}

/** The body text of a body doc. */
export function bodyText(doc: Y.Doc): string {
  return doc.getText('body').toString();
}
