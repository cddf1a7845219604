#!/usr/bin/env node
/**
 * Local cluster launcher (`npm start`): checks Redis and PostgreSQL, builds if `dist` is missing
 * or stale, starts an embedded S3 (s3rver), one gateway, two doc services and (when built) the
 * history worker, creates a `demo` tenant + workspace on first start and prints how to connect.
 * Ctrl-C (SIGINT) or SIGTERM stops every process cleanly.
 *
 * Also used as a library by the load-testing tool (apps/loadtest): `launchCluster(options)`.
 */
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const ROOT = path.resolve(__dirname, '..');
/** Where `npm start`'s embedded S3 keeps its data (gitignored; `S3_DATA_DIR` overrides). */
const LOCAL_S3_DIR = path.join(ROOT, '.diaryx-local', 's3');
/** Every package of the monorepo (`libs/*`, `apps/*` with a tsconfig.json). */
const PACKAGES = ['libs', 'apps'].flatMap((dir) =>
  fs.existsSync(path.join(ROOT, dir))
    ? fs
        .readdirSync(path.join(ROOT, dir))
        .map((name) => `${dir}/${name}`)
        .filter((pkg) => fs.existsSync(path.join(ROOT, pkg, 'tsconfig.json')))
    : [],
);

/** Newest modification time (ms) of any file below `dir` (0 when it does not exist). */
function newestMtime(dir) {
  if (!fs.existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else newest = Math.max(newest, fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** True when some package's `src` is newer than its build output (or the output is missing). */
function buildIsStale() {
  for (const pkg of PACKAGES) {
    const src = path.join(ROOT, pkg, 'src');
    if (!fs.existsSync(src)) continue;
    const info = path.join(ROOT, pkg, 'dist', '.tsbuildinfo');
    if (!fs.existsSync(info)) return true;
    if (newestMtime(src) > fs.statSync(info).mtimeMs) return true;
  }
  return !fs.existsSync(path.join(ROOT, 'apps/gateway/dist/main.js')) || !fs.existsSync(path.join(ROOT, 'apps/doc-service/dist/main.js'));
}

/** Runs `tsc -b` when needed; throws when the build fails. */
function buildIfNeeded(log) {
  if (!buildIsStale()) return;
  log('building (dist missing or older than src): npm run build ...');
  const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-b', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed (see the TypeScript errors above)');
}

/** Bundles the browser SDK and the /play playground (the root `postbuild` steps) when stale. */
function bundlePlaygroundIfNeeded(log) {
  const index = path.join(ROOT, 'apps/playground/dist/index.html');
  const sources = ['apps/playground/src', 'apps/playground/static', 'libs/client/src'].map((d) => path.join(ROOT, d));
  if (fs.existsSync(index) && Math.max(...sources.map(newestMtime)) <= fs.statSync(index).mtimeMs) return;
  log('bundling the browser SDK and the playground ...');
  for (const script of ['libs/client/scripts/bundle.mjs', 'apps/playground/scripts/build.mjs']) {
    const r = spawnSync(process.execPath, [path.join(ROOT, script)], { cwd: ROOT, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${script} failed`);
  }
}

/** Redacts the password of a connection URL. */
function redact(url) {
  return url.replace(/\/\/([^:/@]+):([^@]+)@/, '//$1:***@');
}

/** Pings Redis once; rejects with a message that says how to start it. */
/**
 * The Redis to ping before starting: the first seed node of REDIS_CLUSTER_NODES or the first
 * sentinel of REDIS_SENTINELS when one is set (docs/redis.md; both answer PING), else REDIS_URL.
 */
function redisCheckUrl(env) {
  const list = env.REDIS_CLUSTER_NODES || env.REDIS_SENTINELS;
  if (!list) return env.REDIS_URL;
  const first = list.split(',')[0].trim();
  return `redis${env.REDIS_TLS === 'true' && env.REDIS_CLUSTER_NODES ? 's' : ''}://${first}`;
}

async function checkRedis(url) {
  const { Redis } = require('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis is not reachable at ${redact(url)} (${err.message}).\n` +
        `Start it, e.g.:  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no\n` +
        `or point REDIS_URL (or REDIS_CLUSTER_NODES / REDIS_SENTINELS, docs/redis.md) at a running Redis.`,
    );
  } finally {
    redis.disconnect();
  }
}

/** Runs `SELECT 1`; rejects with a message that says how to start PostgreSQL. */
async function checkPostgres(url) {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 3000 });
  pool.on('error', () => undefined);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${redact(url)} (${err.message}).\n` +
        `Start it, e.g.:  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n` +
        `or point DATABASE_URL at a running PostgreSQL.`,
    );
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/**
 * Starts the embedded S3 (`startEmbeddedS3` of @diaryx-sync/objstore/embedded: s3rver, bucket
 * created) on `directory` (kept), or on a temp directory removed at stop when it is undefined;
 * resolves to `{ close() }`. A port already in use is taken as a running S3.
 */
async function startEmbeddedS3(port, bucket, log, directory) {
  const { startEmbeddedS3: start } = require('@diaryx-sync/objstore/embedded');
  try {
    const s3 = await start({ port, bucket, ...(directory ? { directory } : {}) });
    return { close: () => s3.stop().catch(() => undefined) };
  } catch (err) {
    if (err && err.code === 'EADDRINUSE') {
      log(`port ${port} is in use: assuming an S3 server is already running there`);
      return { close: async () => undefined };
    }
    throw err;
  }
}

/**
 * One HTTP request with node:http; resolves `{ status, text }`. The launcher stays up as long as
 * the cluster: the global `fetch` (undici) would keep ~10 MB of RSS in it for a few requests.
 */
function httpRequest(url, { method = 'GET', headers = {}, body, timeoutMs = 30000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Resolves when `GET url` answers 200, rejects after `timeoutMs`. */
async function waitForHttp200(url, timeoutMs, isDead) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (isDead && isDead()) throw new Error(`a process exited while waiting for ${url}`);
    try {
      const res = await httpRequest(url, { timeoutMs: 2000 });
      if (res.status === 200) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${url}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Children still running; killed if the launcher itself exits abruptly. */
const liveChildren = new Set();
process.on('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/**
 * V8 flags of every service (each left out when NODE_OPTIONS sets it). Measured with the
 * 50 × 4 × 2/s fanout load test: the services' CPU and latency did not change measurably.
 * - Young-generation semi-spaces of at most 2 MB (V8's default grows them to 16 MB): they grow
 *   with any activity (start-up, a few edits) and V8 shrinks them only long after the process
 *   went idle, so they held 15-35 MB of RSS per idle service.
 * - One V8 platform thread for background GC and compilation instead of 4 (one stack and
 *   malloc arena each): ~2.5 MB of RSS per service.
 */
const SERVICE_V8_FLAGS = ['--max-semi-space-size=2', '--v8-pool-size=1'];
function serviceV8Flags(env) {
  const nodeOptions = env.NODE_OPTIONS ?? '';
  return SERVICE_V8_FLAGS.filter((flag) => !nodeOptions.includes(flag.split('=')[0]));
}

/**
 * Starts one child process (`node <main>`), with its output appended to `logFile`.
 * Returns `{ name, child, exited: Promise<number|null>, stop() }`.
 */
function startService(name, main, env, logFile) {
  const out = fs.openSync(logFile, 'a');
  // Own process group: a terminal Ctrl-C reaches only the launcher, which stops children in order.
  // CPU_PROFILE_DIR=<dir>: each service writes a V8 CPU profile there when it stops (docs/benchmarks.md).
  const profileDir = process.env.CPU_PROFILE_DIR;
  const nodeArgs = [
    ...serviceV8Flags(env),
    ...(profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`, `--cpu-prof-name=${name}.${Date.now()}.cpuprofile`]
      : []),
  ];
  const child = spawn(process.execPath, [...nodeArgs, main], { cwd: ROOT, env, stdio: ['ignore', out, out], detached: true });
  liveChildren.add(child);
  child.on('exit', () => liveChildren.delete(child));
  fs.closeSync(out);
  let exitCode;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve((exitCode = code ?? signal))));
  return {
    name,
    child,
    logFile,
    exited,
    get hasExited() {
      return exitCode !== undefined;
    },
    /** SIGTERM, then SIGKILL after `graceMs`. */
    async stop(graceMs = 15000) {
      if (exitCode !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** POSTs JSON with a bearer token; resolves `{ status, body }`. */
async function postJson(url, token, body) {
  const res = await httpRequest(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  let json = null;
  try {
    json = JSON.parse(res.text);
  } catch {
    /* empty body */
  }
  return { status: res.status, body: json };
}

/**
 * Gives a new demo workspace a `README.md` (imported as a zip through the HTTP API), so that the
 * printed `/yjs` example (`body:demo/README.md`) edits a real file instead of a body doc with no
 * file (which self-healing would only adopt under `lost+found/` after its grace period).
 */
async function seedDemoWorkspace(httpBase, adminToken) {
  const { workspaceZipStream } = require('@diaryx-sync/git-store');
  const readme = '---\ntitle: Demo\n---\n\n# Demo\n\nEdit me over /sync2, /yjs or with the CLI.\n';
  const chunks = [];
  for await (const c of workspaceZipStream([{ path: 'README.md', content: Buffer.from(readme) }])) chunks.push(c);
  const res = await httpRequest(`${httpBase}/api/workspaces/demo/snapshot?mode=merge`, {
    method: 'POST',
    headers: { 'content-type': 'application/zip', authorization: `Bearer ${adminToken}` },
    body: Buffer.concat(chunks),
  });
  if (res.status !== 200) throw new Error(`seeding the demo workspace failed: HTTP ${res.status} ${res.text}`);
}

/** Finds the existing `demo` tenant in PostgreSQL and signs a tenant-admin token for it locally. */
async function recoverDemoTenant(env) {
  const { Pool } = require('pg');
  const { SignJWT } = require('jose');
  const pool = new Pool({ connectionString: env.DATABASE_URL, max: 1 });
  pool.on('error', () => undefined);
  try {
    const { rows } = await pool.query("SELECT id FROM tenants WHERE name = 'demo'");
    if (rows.length === 0) throw new Error('the demo tenant exists according to the API but not in PostgreSQL');
    const tenantId = rows[0].id;
    const adminToken = await new SignJWT({ tid: tenantId, ws: ['*'], role: 'admin' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('demo-admin')
      .setIssuedAt()
      .setExpirationTime('365d')
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    return { tenant_id: tenantId, admin_token: adminToken };
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/**
 * Makes sure the demo tenant and its `demo` workspace exist (created through the HTTP API with
 * the cluster ADMIN_TOKEN on first start; remembered in `stateFile`) and returns an editor token.
 */
async function ensureDemo(httpBase, adminToken, stateFile, log, env) {
  let state = null;
  try {
    state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  } catch {
    state = null;
  }
  const mint = (tenantAdmin) => postJson(`${httpBase}/api/tokens`, tenantAdmin, { sub: 'demo-user', ws: ['demo'], role: 'editor', ttl_s: 7 * 24 * 3600 });
  if (state) {
    const ws = await postJson(`${httpBase}/api/workspaces`, state.admin_token, { id: 'demo', name: 'Demo' });
    if (ws.status === 201) await seedDemoWorkspace(httpBase, state.admin_token);
    const token = ws.status === 201 || ws.status === 409 ? await mint(state.admin_token) : null;
    if (token && token.status === 201) return { tenant: state.tenant_id, token: token.body.token, expires_at: token.body.expires_at };
    log('stored demo tenant is gone or its admin token expired: creating a new demo tenant');
  }
  const tenant = await postJson(`${httpBase}/api/tenants`, adminToken, { name: 'demo' });
  if (tenant.status === 201) {
    state = { tenant_id: tenant.body.id, admin_token: tenant.body.admin_token };
  } else if (tenant.status === 409) {
    // The tenant exists but this machine lost its admin token: mint one with the local JWT_SECRET.
    state = await recoverDemoTenant(env);
  } else {
    throw new Error(`creating the demo tenant failed: HTTP ${tenant.status} ${JSON.stringify(tenant.body)}`);
  }
  fs.mkdirSync(path.dirname(stateFile), { recursive: true });
  fs.writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  const ws = await postJson(`${httpBase}/api/workspaces`, state.admin_token, { id: 'demo', name: 'Demo' });
  if (ws.status !== 201 && ws.status !== 409) throw new Error(`creating the demo workspace failed: HTTP ${ws.status} ${JSON.stringify(ws.body)}`);
  if (ws.status === 201) await seedDemoWorkspace(httpBase, state.admin_token);
  const token = await mint(state.admin_token);
  if (token.status !== 201) throw new Error(`minting the demo token failed: HTTP ${token.status} ${JSON.stringify(token.body)}`);
  return { tenant: state.tenant_id, token: token.body.token, expires_at: token.body.expires_at };
}

/**
 * Launches the local topology. Options (all optional):
 * `gatewayPort` (8080), `docServicePorts` ([8081, 8082]), `historyWorkerPort` (8090), `s3Port` (9000),
 * `env` (extra env for every service), `logDir`, `log` (line printer), `demo` (true: ensure demo tenant),
 * `build` (true: build when stale), `s3Directory` (the embedded S3's data, kept; default a temp
 * directory removed at stop).
 * Resolves `{ env, services, httpBase, wsBase, demo, stop(), restartService(name, { signal, downMs }) }`.
 */
async function launchCluster(options = {}) {
  const log = options.log ?? ((line) => console.log(`[start] ${line}`));
  const baseEnv = { ...process.env, ...(options.env ?? {}) };
  const env = {
    ...baseEnv,
    REDIS_URL: baseEnv.REDIS_URL ?? 'redis://127.0.0.1:6379',
    DATABASE_URL: baseEnv.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    REDIS_PREFIX: baseEnv.REDIS_PREFIX ?? 'dx',
    S3_BUCKET: baseEnv.S3_BUCKET ?? 'diaryx-sync',
    ADMIN_TOKEN: baseEnv.ADMIN_TOKEN ?? 'dev-admin-token',
    JWT_SECRET: baseEnv.JWT_SECRET ?? 'dev-only-jwt-secret-change-me',
    LOG_LEVEL: baseEnv.LOG_LEVEL ?? 'info',
  };
  const gatewayPort = options.gatewayPort ?? 8080;
  const docServicePorts = options.docServicePorts ?? [8081, 8082];
  const historyWorkerPort = options.historyWorkerPort ?? 8090;
  const s3Port = options.s3Port ?? 9000;

  await checkRedis(redisCheckUrl(env));
  await checkPostgres(env.DATABASE_URL);
  if (options.build !== false) {
    buildIfNeeded(log);
    bundlePlaygroundIfNeeded(log);
  }

  let s3 = { close: async () => undefined };
  if (!baseEnv.S3_ENDPOINT) {
    s3 = await startEmbeddedS3(s3Port, env.S3_BUCKET, log, options.s3Directory);
    env.S3_ENDPOINT = `http://127.0.0.1:${s3Port}`;
    env.S3_ACCESS_KEY = 'S3RVER';
    env.S3_SECRET_KEY = 'S3RVER';
  }

  const logDir = options.logDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'diaryx-logs-'));
  fs.mkdirSync(logDir, { recursive: true });
  const services = [];
  /** name -> [main, env, logFile] of every started service, for restartService. */
  const specs = new Map();
  const launch = (name, main, svcEnv, logFile) => {
    specs.set(name, [main, svcEnv, logFile]);
    return startService(name, main, svcEnv, logFile);
  };
  /**
   * Stops service `name` (SIGTERM, or `signal` e.g. SIGKILL) and starts it again with the same
   * command, env and log file (used by the loadtest's coldload and failover scenarios). Waits for
   * its `/healthz` when it has a port. Resolves the new service object.
   */
  const restartService = async (name, { signal, downMs = 0 } = {}) => {
    const i = services.findIndex((s) => s.name === name);
    if (i < 0 || !specs.has(name)) throw new Error(`no service ${name}`);
    if (signal && !services[i].hasExited) {
      services[i].child.kill(signal);
      await services[i].exited;
    } else {
      await services[i].stop();
    }
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    const [main, svcEnv, logFile] = specs.get(name);
    services[i] = startService(name, main, svcEnv, logFile);
    if (svcEnv.PORT) await waitForHttp200(`http://127.0.0.1:${svcEnv.PORT}/healthz`, 60000, () => services[i].hasExited);
    return services[i];
  };
  const stop = async () => {
    // Gateways first (drain clients), then workers, then doc services (flush, release leases).
    const order = [...services].sort((a, b) => rank(a.name) - rank(b.name));
    for (const svc of order) await svc.stop();
    await s3.close();
  };
  const rank = (name) => (name.startsWith('gateway') ? 0 : name.startsWith('history') ? 1 : 2);

  try {
    docServicePorts.forEach((port, i) => {
      services.push(
        launch(`doc-service-${i + 1}`, path.join(ROOT, 'apps/doc-service/dist/main.js'), { ...env, PORT: String(port), DOC_SERVICE_ID: `doc-service-${port}` }, path.join(logDir, `doc-service-${port}.log`)),
      );
    });
    const workerMain = path.join(ROOT, 'apps/history-worker/dist/main.js');
    if (fs.existsSync(workerMain)) {
      services.push(launch('history-worker', workerMain, { ...env, PORT: String(historyWorkerPort) }, path.join(logDir, 'history-worker.log')));
    }
    services.push(
      launch('gateway', path.join(ROOT, 'apps/gateway/dist/main.js'), { ...env, PORT: String(gatewayPort) }, path.join(logDir, 'gateway.log')),
    );
    const anyDead = () => services.some((s) => s.hasExited);
    const httpBase = `http://127.0.0.1:${gatewayPort}`;
    for (const port of docServicePorts) await waitForHttp200(`http://127.0.0.1:${port}/healthz`, 60000, anyDead);
    await waitForHttp200(`${httpBase}/readyz`, 60000, anyDead);

    let demo = null;
    if (options.demo !== false) {
      const stateKey = crypto.createHash('sha256').update(`${env.DATABASE_URL}|${env.REDIS_PREFIX}`).digest('hex').slice(0, 12);
      const stateFile = path.join(os.homedir(), '.diaryx-sync', `demo-${stateKey}.json`);
      demo = await ensureDemo(httpBase, env.ADMIN_TOKEN, stateFile, log, env);
    }
    return { env, services, logDir, httpBase, wsBase: `ws://127.0.0.1:${gatewayPort}`, demo, stop, restartService };
  } catch (err) {
    for (const svc of services) {
      if (svc.hasExited) log(`${svc.name} exited early; last log lines (${svc.logFile}):\n${tail(svc.logFile, 15)}`);
    }
    await stop();
    throw err;
  }
}

/** Last `n` lines of a file. */
function tail(file, n) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

async function main() {
  const log = (line) => console.log(`[start] ${line}`);
  // git objects and attachments outlive a restart, like the refs and rows in PostgreSQL
  const s3Directory = process.env.S3_DATA_DIR ?? LOCAL_S3_DIR;
  let cluster;
  try {
    cluster = await launchCluster({
      log,
      gatewayPort: Number(process.env.PORT ?? 8080),
      s3Directory,
    });
  } catch (err) {
    console.error(`[start] ${err.message}`);
    process.exit(1);
  }
  const { demo, wsBase, httpBase, logDir, services } = cluster;
  const docId = encodeURIComponent('body:demo/README.md');
  console.log(
    [
      '',
      'Diaryx Sync is running:',
      ...services.map((s) => `  ${s.name.padEnd(16)} pid ${s.child.pid}`),
      `  HTTP API          ${httpBase}/api  (health ${httpBase}/healthz, metrics ${httpBase}/metrics)`,
      `  ops page          ${httpBase}/ops  (ADMIN_TOKEN ${cluster.env.ADMIN_TOKEN}; queues at ${httpBase}/ops/queues)`,
      `  S3                ${cluster.env.S3_ENDPOINT}  bucket ${cluster.env.S3_BUCKET}${process.env.S3_ENDPOINT ? '' : `  (data in ${s3Directory})`}`,
      `  logs              ${logDir}`,
      '',
      `Demo tenant ${demo.tenant}, workspace "demo"; editor token (expires ${demo.expires_at}):`,
      `  ${demo.token}`,
      '',
      'Connect with:',
      `  browser ${httpBase}/play#token=${demo.token}&workspace=demo   (the playground, signed in)`,
      `  /sync2  ${wsBase}/sync2?token=${demo.token}`,
      `  /yjs    ${wsBase}/yjs/${docId}?token=${demo.token}`,
      `          (y-websocket WebsocketProvider: serverUrl ${wsBase}/yjs, room ${docId}, params { token })`,
      `  CLI     npx diaryx-sync pull ./demo --server ${wsBase} --workspace demo --token ${demo.token}`,
      `  git     git clone http://token:${demo.token}@${httpBase.replace('http://', '')}/git/demo.git   (after a commit)`,
      '',
      'Press Ctrl-C to stop everything.',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async (signal, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n[start] ${signal}: stopping gateway, workers and doc services ...`);
    await cluster.stop();
    console.log('[start] stopped.');
    process.exit(exitCode);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  for (const svc of services) {
    svc.exited.then((code) => {
      if (stopping) return;
      console.error(`[start] ${svc.name} exited unexpectedly (${code}); last log lines:\n${tail(svc.logFile, 20)}`);
      void shutdown('failure', 1);
    });
  }
}

module.exports = { launchCluster, checkRedis, checkPostgres, buildIfNeeded, startEmbeddedS3, ensureDemo };

if (require.main === module) void main();
