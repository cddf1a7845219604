/**
 * Chaos suite (docs/chaos.md): writers acknowledge lines with `save` while the suite SIGKILLs and
 * restarts each doc service, the gateway and the history worker, SIGTERMs a doc service, restarts
 * a private Redis (losing all of its data) and causes a self-healing pass (an orphan body doc,
 * then a commit through the HTTP API). At the end: every acknowledged line is present exactly
 * once, every replica converged, and no two owners wrote one shard (the fencing tokens of the
 * update log only increase per shard). Prints a table of faults, recovery times and totals.
 *
 * Short by default (CI, part of `npm test`); `npm run test:chaos` runs the long profile.
 * Env: CHAOS_ROUNDS, CHAOS_WRITERS, CHAOS_DOCS, CHAOS_GAP_MS, CHAOS_WRITE_EVERY_MS,
 * CHAOS_TAKEOVER_BUDGET_MS override the profile.
 */
import { createFileMetadata, serializeFileMetadata } from '@diaryx-sync/crdt';
import { PostgresStorage, readShardFences } from '@diaryx-sync/crdt/postgres';
import { startEmbeddedS3, type EmbeddedS3 } from '@diaryx-sync/objstore/embedded';
import * as Y from 'yjs';
import {
  bodyText,
  freePort,
  sleep,
  startCluster,
  Sync2TestClient,
  type ServiceProcess,
  type TestCluster,
  type TestTenant,
  waitUntil,
} from './helpers/cluster';
import {
  ChaosWriter,
  chaosTable,
  percentile,
  PrivateRedis,
  type ChaosEvent,
  type WriterStats,
} from './helpers/chaos';

const LONG = process.env.CHAOS_PROFILE === 'long';
const ROUNDS = Number(process.env.CHAOS_ROUNDS ?? (LONG ? 6 : 1));
const WRITERS = Number(process.env.CHAOS_WRITERS ?? 40);
const DOCS = Number(process.env.CHAOS_DOCS ?? 20);
const GAP_MS = Number(process.env.CHAOS_GAP_MS ?? (LONG ? 6000 : 1500));
const WRITE_EVERY_MS = Number(process.env.CHAOS_WRITE_EVERY_MS ?? 250);
const SHARDS = 16;
const WS = 'chaos';
/**
 * "Writable again" after a doc-service crash, p99: 2 s in the long profile (the bound of
 * docs/fencing.md); the short CI profile allows 4 s, since CI machines run it next to other
 * suites and a starved machine delays every step (CHAOS_TAKEOVER_BUDGET_MS overrides).
 */
const TAKEOVER_P99_BUDGET_MS = Number(process.env.CHAOS_TAKEOVER_BUDGET_MS ?? (LONG ? 2000 : 4000));

jest.setTimeout((LONG ? 30 : 3) * 60_000);

let redis: PrivateRedis;
let s3: EmbeddedS3;
let cluster: TestCluster;
let worker: ServiceProcess;
let tenant: TestTenant;
let token: string;

beforeAll(async () => {
  redis = new PrivateRedis(await freePort());
  await redis.start();
  s3 = await startEmbeddedS3({ port: 0 });
  cluster = await startCluster({
    gateways: 1,
    docServices: 2,
    shardCount: SHARDS,
    env: { REDIS_URL: redis.url, S3_ENDPOINT: s3.endpoint, SYNC_UPDATE_RATE: '1000' },
  });
  worker = await cluster.historyWorker();
  await worker.start();
  tenant = await cluster.createTenant('chaos');
  await cluster.createWorkspace(tenant, WS);
  token = await cluster.token({ tid: tenant.id, ws: [WS] });
}, 120_000);

afterAll(async () => {
  await worker?.stop('SIGKILL');
  await cluster?.stop();
  await s3?.stop();
  await redis?.kill();
}, 60_000);

/**
 * Starts a killed process again. A service started while Redis is down exits at once (fail
 * fast); like an orchestrator, start it again until it stays up.
 */
async function restart(p: ServiceProcess): Promise<void> {
  await waitUntil(
    () =>
      p.start().then(
        () => true,
        () => false,
      ),
    90_000,
    `${p.name} to start again`,
  );
}

const docIdOf = (d: number) => `body:${WS}/doc-${String(d).padStart(2, '0')}.md`;

/** Gives every written doc a workspace entry (so only the injected orphan is an orphan). */
async function createEntries(): Promise<void> {
  const c = await Sync2TestClient.connect(cluster.ws(), token);
  try {
    const files = (await c.openSynced(`workspace:${WS}`)).getMap<string>('files');
    for (let d = 0; d < DOCS; d++) {
      const filename = `doc-${String(d).padStart(2, '0')}.md`;
      files.set(
        filename,
        serializeFileMetadata(createFileMetadata({ filename, title: filename, modified_at: 1 })),
      );
    }
    await c.save(`workspace:${WS}`);
  } finally {
    c.close();
  }
}

/** Shard → token, polled from `shard_fences`. */
const fences = async () => readShardFences(cluster.pool);

/**
 * ms from `since` until every shard in `shards` has a token above the one it had (a new owner
 * raised the database fence), polled every 20 ms; per shard.
 */
async function takeovers(before: Map<number, number>, since: number, timeoutMs = 30_000): Promise<number[]> {
  const took = new Map<number, number>();
  const deadline = Date.now() + timeoutMs;
  while (took.size < before.size && Date.now() < deadline) {
    const now = await fences().catch(() => null);
    if (now) {
      for (const [shard, token] of before) {
        if (!took.has(shard) && (now.get(shard)?.token ?? 0) > token) took.set(shard, Date.now() - since);
      }
    }
    await sleep(20);
  }
  return [...took.values()];
}

test('chaos: kills and restarts lose no acknowledged line, replicas converge, one owner per shard token', async () => {
  await createEntries();
  const stats: WriterStats = { saves: 0, saveFailures: 0, reconnects: 0, errors: [] };
  const url = () => `${cluster.ws()}/sync2?token=${encodeURIComponent(token)}`;
  const writers = Array.from(
    { length: WRITERS },
    (_, i) => new ChaosWriter(`w${String(i).padStart(2, '0')}`, docIdOf(i % DOCS), url, stats),
  );
  await Promise.all(writers.map((w) => w.connect()));
  await waitUntil(() => writers.every((w) => w.syncedAt > 0), 30_000, 'writers synced');

  const t0 = Date.now();
  let writing = true;
  const loops = writers.map(async (w, i) => {
    await sleep((i * WRITE_EVERY_MS) / WRITERS);
    let n = 0;
    while (writing) {
      w.write();
      if (++n % 2 === 0) await w.save();
      await sleep(WRITE_EVERY_MS);
    }
  });

  const events: ChaosEvent[] = [];
  const crashTakeovers: number[] = [];
  const gracefulTakeovers: number[] = [];
  const record = (what: string, at: number, recoveryMs: number | null, criterion: string) =>
    events.push({ at: at - t0, what, recoveryMs, criterion });

  const ownedBy = async (id: string) =>
    new Map([...(await fences())].filter(([, f]) => f.owner === id).map(([s, f]) => [s, f.token]));

  const killDocService = async (i: number, signal: 'SIGKILL' | 'SIGTERM') => {
    const p = cluster.docServices[i]!;
    const before = await ownedBy(p.env.DOC_SERVICE_ID!);
    const at = Date.now();
    const stopping = p.stop(signal);
    const took = await takeovers(before, at);
    await stopping;
    (signal === 'SIGKILL' ? crashTakeovers : gracefulTakeovers).push(...took);
    record(
      `${signal} ${p.name} (${before.size} shards)`,
      at,
      took.length === before.size && took.length > 0 ? Math.max(...took) : null,
      'every shard it owned has a new owner (database fence raised)',
    );
    await restart(p);
  };

  // Three lanes run side by side: ownership faults (doc services, Redis) one after the other, so
  // takeovers are measured one at a time; the gateway; the history worker and self-healing.
  const gatewayFaults: (() => Promise<void>)[] = [
    async () => {
      const gw = cluster.gateways[0]!;
      const at = Date.now();
      await gw.stop('SIGKILL');
      await restart(gw);
      await waitUntil(
        () => writers.every((w) => w.syncedAt > at),
        90_000,
        'writers back after gateway restart',
      ).catch((err: Error) => {
        const stuck = writers.filter((w) => w.syncedAt <= at).map((w) => w.describe());
        throw new Error(`${err.message}: ${stuck.join('; ')}\n${gw.logTail(10)}`);
      });
      record('SIGKILL gateway + restart', at, Date.now() - at, 'every writer reconnected and synced');
    },
  ];
  const workerFaults: (() => Promise<void>)[] = [
    async () => {
      const at = Date.now();
      await worker.stop('SIGKILL');
      await restart(worker);
      record(
        'SIGKILL history worker + restart',
        at,
        Date.now() - at,
        'the restarted worker answers /healthz',
      );
    },
    async () => {
      // self-healing pass: an orphan body doc (no workspace entry), then a commit (validation)
      const at = Date.now();
      const orphan = `body:${WS}/orphan-${at}.md`;
      // the gateway lane may be restarting the gateway: retry until it answers
      await waitUntil(
        async () => {
          const c = await Sync2TestClient.connect(cluster.ws(), token);
          try {
            (await c.openSynced(orphan)).getText('body').insert(0, 'orphan text\n');
            await c.save(orphan);
            return true;
          } finally {
            c.close();
          }
        },
        60_000,
        'the orphan body doc written',
      );
      const res = await waitUntil(
        () =>
          fetch(`${cluster.http()}/api/workspaces/${WS}/commit`, {
            method: 'POST',
            headers: { authorization: `Bearer ${tenant.adminToken}` },
          }).catch(() => null),
        60_000,
        'the commit request',
      );
      record(`orphan body + commit (HTTP ${res.status})`, at, Date.now() - at, 'the commit request answered');
    },
  ];
  const ownershipFaults: (() => Promise<void>)[] = [
    () => killDocService(0, 'SIGKILL'),
    async () => {
      const before = new Map([...(await fences())].map(([s, f]) => [s, f.token]));
      const at = Date.now();
      await redis.kill();
      await redis.start();
      const took = await takeovers(before, at, 60_000);
      record(
        'SIGKILL Redis (all data lost) + restart',
        at,
        took.length === before.size ? Math.max(...took) : null,
        'every shard re-acquired (fence above the old token)',
      );
    },
    () => killDocService(1, 'SIGKILL'),
    () => killDocService(0, 'SIGTERM'),
  ];
  const lane = async (faults: (() => Promise<void>)[]) => {
    for (let round = 0; round < ROUNDS; round++) {
      for (const fault of faults) {
        await sleep(GAP_MS);
        await fault();
      }
    }
  };
  try {
    await Promise.all([lane(ownershipFaults), lane(gatewayFaults), lane(workerFaults)]);
    await sleep(GAP_MS);
  } catch (err) {
    for (const w of writers) w.close();
    throw err;
  } finally {
    writing = false;
    await Promise.all(loops);
  }
  events.sort((a, b) => a.at - b.at);
  const writeSeconds = (Date.now() - t0) / 1000;

  // every writer gets a final acknowledged save
  for (const w of writers) {
    await waitUntil(
      async () => (await w.save()) && w.acknowledged.length === w.next,
      60_000,
      `final save of ${w.name}`,
    );
  }

  // convergence: writers of a doc, PostgreSQL, and the owner's memory (a fresh reader)
  const storage = new PostgresStorage({ pool: cluster.pool, tenant: tenant.id });
  const reader = await Sync2TestClient.connect(cluster.ws(), token);
  let converged = 0;
  let lost = 0;
  let duplicated = 0;
  const acknowledged = writers.reduce((n, w) => n + w.acknowledged.length, 0);
  for (let d = 0; d < DOCS; d++) {
    const docId = docIdOf(d);
    const group = writers.filter((w) => w.docId === docId);
    await waitUntil(
      () => group.every((w) => w.text === group[0]!.text),
      30_000,
      `writers of ${docId} converged`,
    );
    const state = await storage.loadDoc(docId);
    const stored = new Y.Doc();
    if (state) Y.applyUpdate(stored, state);
    const persisted = stored.getText('body').toString();
    const served = bodyText(await reader.openSynced(docId, 30_000));
    if (persisted === group[0]!.text && served === persisted) converged++;
    const counts = new Map<string, number>();
    for (const line of persisted.split('\n')) if (line) counts.set(line, (counts.get(line) ?? 0) + 1);
    for (const w of group) for (const line of w.acknowledged) if (!counts.has(line)) lost++;
    for (const n of counts.values()) if (n > 1) duplicated++;
  }
  reader.close();
  for (const w of writers) w.close();

  // one owner per shard and token: per shard, the tokens of the update log never go down
  const rows = await cluster.pool.query<{ fence_shard: number; fence_token: string }>(
    'SELECT fence_shard, fence_token FROM crdt_updates WHERE fence_shard IS NOT NULL ORDER BY id',
  );
  const lastToken = new Map<number, number>();
  const tokensSeen = new Set<string>();
  let fenceViolations = 0;
  for (const r of rows.rows) {
    const t = Number(r.fence_token);
    if (t < (lastToken.get(r.fence_shard) ?? 0)) fenceViolations++;
    lastToken.set(r.fence_shard, Math.max(t, lastToken.get(r.fence_shard) ?? 0));
    tokensSeen.add(`${r.fence_shard}:${t}`);
  }

  const crashP99 = percentile(crashTakeovers, 99);
  process.stdout.write(
    chaosTable(
      events,
      {
        'writers / docs / rounds': `${WRITERS} / ${DOCS} / ${ROUNDS}`,
        'writing time': `${writeSeconds.toFixed(1)} s`,
        'lines written': writers.reduce((n, w) => n + w.next, 0),
        'lines acknowledged (saved)': acknowledged,
        'acknowledged lines lost': lost,
        'lines duplicated': duplicated,
        'docs converged (writers = PostgreSQL = server)': `${converged}/${DOCS}`,
        'saves / failed saves / reconnects': `${stats.saves} / ${stats.saveFailures} / ${stats.reconnects}`,
        'update rows checked / shard owner epochs': `${rows.rows.length} / ${tokensSeen.size}`,
        'rows written under a superseded token': fenceViolations,
        'takeover after SIGKILL p50 / p99 / max': `${percentile(crashTakeovers, 50)} / ${crashP99} / ${Math.max(...crashTakeovers)} ms (${crashTakeovers.length} shards)`,
        'takeover after SIGTERM p50 / max': `${percentile(gracefulTakeovers, 50)} / ${Math.max(...gracefulTakeovers)} ms (${gracefulTakeovers.length} shards)`,
      },
      Date.now() - t0,
    ),
  );

  expect(events.every((e) => e.recoveryMs !== null)).toBe(true);
  expect(acknowledged).toBeGreaterThan(WRITERS * 10);
  expect(lost).toBe(0);
  expect(duplicated).toBe(0);
  expect(converged).toBe(DOCS);
  expect(fenceViolations).toBe(0);
  expect(rows.rows.length).toBeGreaterThan(0);
  expect(crashP99).toBeLessThanOrEqual(TAKEOVER_P99_BUDGET_MS);
});
