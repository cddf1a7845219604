/**
 * `--local`: starts the `npm start` topology (scripts/start.js `launchCluster`: 1 gateway,
 * 2 doc services, history worker, embedded S3) on free ports with a fresh Redis prefix and
 * PostgreSQL schema (dropped at the end), so it never touches a running dev cluster.
 */
import crypto from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Pool } from 'pg';
import type { WireProtocol } from '../wire/wire';
import { provisionWithAdminToken } from './provision';
import type { Target } from './target';

/** Repository root (this file is apps/loadtest/{src,dist}/target/). */
export const REPO_ROOT = path.resolve(__dirname, '../../../..');

interface LaunchedService {
  name: string;
  child: ChildProcess;
  hasExited: boolean;
}

interface LaunchedCluster {
  env: Record<string, string>;
  services: LaunchedService[];
  httpBase: string;
  wsBase: string;
  logDir: string;
  stop(): Promise<void>;
  restartService(
    name: string,
    options?: { signal?: NodeJS.Signals; downMs?: number },
  ): Promise<LaunchedService>;
}

interface StartModule {
  launchCluster(options: Record<string, unknown>): Promise<LaunchedCluster>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Server limits of the local stack: the per-connection and per-tenant update rates are raised
 * so that `ingest` (one socket, as fast as it takes) measures the pipeline, not the rate limiter.
 */
export const LOCAL_STACK_ENV: Record<string, string> = {
  LOG_LEVEL: 'warn',
  SYNC_UPDATE_RATE: '100000',
  SYNC_UPDATE_BURST: '100000',
  SYNC_TENANT_UPDATE_RATE: '0',
  SYNC_MAX_CONNECTIONS_PER_TENANT: '0',
};

export interface LocalClusterOptions {
  protocol: Extract<WireProtocol, 'sync2' | 'yjs'>;
  log?: (line: string) => void;
  /** Extra env for every service. */
  env?: Record<string, string>;
  /** The stack's ADMIN_TOKEN (default: a random one for this run). */
  adminToken?: string;
}

export async function startLocalCluster(options: LocalClusterOptions): Promise<Target> {
  const log = options.log ?? (() => undefined);
  const id = crypto.randomBytes(4).toString('hex');
  const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `loadtest_${id}`;
  const admin = new Pool({ connectionString: baseUrl, max: 1 });
  admin.on('error', () => undefined);
  await admin.query(`CREATE SCHEMA ${schema}`);
  const dropSchema = async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end().catch(() => undefined);
  };
  const sep = baseUrl.includes('?') ? '&' : '?';
  const databaseUrl = `${baseUrl}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const adminToken = options.adminToken ?? `loadtest-admin-${id}`;
  const [gatewayPort, ds1, ds2, hw, s3Port] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const start = require(path.join(REPO_ROOT, 'scripts/start.js')) as StartModule;
  log(
    `starting the local stack (gateway :${gatewayPort}, doc services :${ds1} :${ds2}, Redis prefix lt${id}, schema ${schema})`,
  );
  let cluster: LaunchedCluster;
  try {
    cluster = await start.launchCluster({
      log,
      gatewayPort,
      docServicePorts: [ds1, ds2],
      historyWorkerPort: hw,
      s3Port,
      demo: false,
      // This tool runs from dist, so the build exists; rebuilding here would race with edits.
      build: false,
      env: {
        ...LOCAL_STACK_ENV,
        ...(options.env ?? {}),
        DATABASE_URL: databaseUrl,
        REDIS_PREFIX: `lt${id}`,
        ADMIN_TOKEN: adminToken,
      },
    });
  } catch (err) {
    await dropSchema();
    throw err;
  }
  let provisioned;
  try {
    provisioned = await provisionWithAdminToken(cluster.httpBase, adminToken, `lt-${id}`);
  } catch (err) {
    await cluster.stop();
    await dropSchema();
    throw err;
  }
  const endpointBase = options.protocol === 'yjs' ? `${cluster.wsBase}/yjs` : cluster.wsBase;
  const docServices = ['doc-service-1', 'doc-service-2'];
  const pidOf = (name: string) => cluster.services.find((s) => s.name === name)?.child.pid;
  return {
    label: `diaryx-sync /${options.protocol} (local: 1 gateway, 2 doc services)`,
    endpoints: [{ protocol: options.protocol, base: endpointBase, token: provisioned.token }],
    docId: (name) => `body:${provisioned.workspace}/${name}.md`,
    processes: cluster.services.map((s) => ({ name: s.name, pid: () => pidOf(s.name) })),
    metricsUrls: [],
    local: true,
    async unloadDocs() {
      for (const name of docServices) await cluster.restartService(name);
      await waitReady(cluster.httpBase);
      return 'restarted both doc services (SIGTERM, start, /readyz)';
    },
    async failover(downMs, onKilled) {
      const name = docServices[0];
      const restarting = cluster.restartService(name, { signal: 'SIGKILL', downMs });
      onKilled(Date.now(), name);
      await restarting;
    },
    async close() {
      await cluster.stop();
      await dropSchema();
    },
  };
}

async function waitReady(httpBase: string): Promise<void> {
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    const ok = await fetch(`${httpBase}/readyz`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${httpBase}/readyz not ready after 60 s`);
}
