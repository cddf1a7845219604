/**
 * The JSON document behind the `/ops` page (`GET /ops/api/state`) and the pure function that
 * builds it from what the services already publish: heartbeats in Redis (docs/architecture.md#heartbeats-and-ports)
 * and the history worker's tables (`workspace_health`, `history_audit`) next to the gateway's
 * `tenants`/`workspaces`. Heartbeat fields are parsed leniently: a half-written or older record
 * shows up with defaults instead of breaking the page.
 */
import { z } from 'zod';

const count = z.coerce.number().int().nonnegative().catch(0);
const text = z.coerce.string().catch('');

const baseBeat = {
  id: text,
  started_at: text,
  updated_at: text,
};

const gatewayBeat = z.object({
  ...baseBeat,
  connections: count.default(0),
  connections_by_tenant: z.record(count).catch({}).default({}),
  busiest_docs: z
    .array(z.object({ tenant: text, doc: text, subscribers: count.default(0), frames: count.default(0) }))
    .catch([])
    .default([]),
});

const docServiceBeat = z.object({
  ...baseBeat,
  shards: z.array(z.coerce.number().int().nonnegative()).catch([]).default([]),
  docs_loaded: count.default(0),
  workspaces: z
    .array(z.object({ tenant: text, workspace: text, peers: count.default(0) }))
    .catch([])
    .default([]),
});

const queueCounts = z.object({
  waiting: count.default(0),
  active: count.default(0),
  delayed: count.default(0),
  failed: count.default(0),
});

const workerBeat = z.object({
  ...baseBeat,
  active_jobs: count.default(0),
  concurrency: count.default(0),
  queues: z
    .record(queueCounts.catch({ waiting: 0, active: 0, delayed: 0, failed: 0 }))
    .catch({})
    .default({}),
});

/** Job counts of one BullMQ queue. */
export type QueueCounts = z.infer<typeof queueCounts>;

/** One gateway as shown on the page. */
export interface OpsGateway {
  id: string;
  started_at: string;
  updated_at: string;
  connections: number;
  tenants: number;
}

/** One doc service with its shards. */
export interface OpsDocService {
  id: string;
  started_at: string;
  updated_at: string;
  shards: number[];
  docs_loaded: number;
  workspaces: number;
}

/** One history worker. */
export interface OpsWorker {
  id: string;
  started_at: string;
  updated_at: string;
  active_jobs: number;
  concurrency: number;
}

/** A row of `history_audit` (repairs, rebuilds, failed validations, alerts: docs/self-healing.md). */
export interface OpsAuditRow {
  tenant: string;
  workspace: string;
  event: string;
  actor: string;
  commit_id: string | null;
  backup_key: string | null;
  details: Record<string, unknown>;
  created_at: string;
}

/** One webhook delivery attempt (`webhook_deliveries`; no URL path, secret or payload). */
export interface OpsWebhookDelivery {
  tenant: string;
  workspace: string;
  webhook_id: string;
  event: string;
  /** Host (and port) of the hook's URL only. */
  url_host: string;
  attempt: number;
  outcome: 'delivered' | 'failed' | 'gave_up';
  /** The receiver's answer, null when none came (network error, timeout). */
  http_status: number | null;
  error: string | null;
  duration_ms: number;
  created_at: string;
}

/** A row of `workspace_health`. */
export interface OpsHealthRow {
  tenant: string;
  workspace: string;
  consecutive_failures: number;
  issues: number;
  last_checked_at: string | null;
  last_ok_at: string | null;
  last_good_commit: string | null;
}

/** Health of one workspace. */
export interface OpsWorkspaceHealth {
  tenant: string;
  /** Display name of the tenant (`tenants.name`), when known. */
  tenant_name: string | null;
  workspace: string;
  name: string | null;
  /** `failing`: last validations failed; `healthy`: last validation passed; `unchecked`: never validated. */
  status: 'healthy' | 'failing' | 'unchecked';
  consecutive_failures: number;
  issues: number;
  last_checked_at: string | null;
  last_ok_at: string | null;
  last_good_commit: string | null;
  /** Connections currently in the workspace (doc-service presence), 0 when nobody is there. */
  peers: number;
}

/** `GET /ops/api/state`. */
export interface OpsState {
  generated_at: string;
  /** The gateway that answered. */
  served_by: string;
  prefix: string;
  summary: {
    gateways: number;
    doc_services: number;
    history_workers: number;
    connections: number;
    docs_loaded: number;
    shard_count: number;
    shards_owned: number;
    workspaces: number;
    failing_workspaces: number;
  };
  gateways: OpsGateway[];
  doc_services: OpsDocService[];
  history_workers: OpsWorker[];
  /** Owner instance id of every shard (`null` = currently unowned). */
  shard_owners: (string | null)[];
  connections_by_tenant: { tenant: string; name: string | null; connections: number }[];
  busiest_docs: { tenant: string; doc: string; subscribers: number; frames: number }[];
  /** `source`: `heartbeat` (reported by live workers) or `redis` (read directly; no worker alive). */
  queues: ({ queue: string; source: 'heartbeat' | 'redis' } & QueueCounts)[];
  recent_rebuilds: OpsAuditRow[];
  failed_validations: OpsAuditRow[];
  /** Repairs in place (what, which files, why in `details`). */
  recent_repairs: OpsAuditRow[];
  /** Workspaces still failing validation after repair at the threshold: commits are stopped. */
  validation_alerts: OpsAuditRow[];
  /** Latest webhook delivery attempts of any outcome, newest first. */
  webhook_deliveries: OpsWebhookDelivery[];
  /** Latest failed attempts (`failed`: retried later, `gave_up`: last attempt), newest first. */
  webhook_failures: OpsWebhookDelivery[];
  workspaces: OpsWorkspaceHealth[];
  /** Workspaces in total (the list above is capped). */
  workspaces_total: number;
  /** Parts that could not be read (e.g. the history tables before the worker ever ran). */
  warnings: string[];
}

/** Everything {@link buildOpsState} needs; collected by `OpsStateService`. */
export interface OpsInputs {
  now: Date;
  servedBy: string;
  prefix: string;
  shardCount: number;
  /** Raw heartbeat records (any kind). */
  instances: { kind: string; [field: string]: unknown }[];
  /** Queue depths read from Redis, used when no worker heartbeat reports them. */
  redisQueueDepths?: Record<string, QueueCounts>;
  tenants: { id: string; name: string }[];
  workspaces: { tenant: string; workspace: string; name: string }[];
  health: OpsHealthRow[];
  rebuilds: OpsAuditRow[];
  failedValidations: OpsAuditRow[];
  repairs: OpsAuditRow[];
  alerts: OpsAuditRow[];
  webhookDeliveries?: OpsWebhookDelivery[];
  webhookFailures?: OpsWebhookDelivery[];
  warnings: string[];
  /** Longest workspace list returned (default 200). */
  workspaceLimit?: number;
}

const byId = <T extends { id: string }>(a: T, b: T) => a.id.localeCompare(b.id);

/** Builds the page's state; pure (no I/O), so it is unit-tested directly. */
export function buildOpsState(input: OpsInputs): OpsState {
  const gatewaysRaw = input.instances.filter((i) => i.kind === 'gateway').map((i) => gatewayBeat.parse(i));
  const docRaw = input.instances.filter((i) => i.kind === 'doc-service').map((i) => docServiceBeat.parse(i));
  const workersRaw = input.instances
    .filter((i) => i.kind === 'history-worker')
    .map((i) => workerBeat.parse(i));
  const tenantNames = new Map(input.tenants.map((t) => [t.id, t.name]));

  const gateways: OpsGateway[] = gatewaysRaw
    .map((g) => ({
      id: g.id,
      started_at: g.started_at,
      updated_at: g.updated_at,
      connections: g.connections,
      tenants: Object.keys(g.connections_by_tenant).length,
    }))
    .sort(byId);

  const shardOwners: (string | null)[] = Array.from({ length: input.shardCount }, () => null);
  for (const d of [...docRaw].sort(byId)) {
    for (const s of d.shards) if (s < input.shardCount && shardOwners[s] === null) shardOwners[s] = d.id;
  }
  const docServices: OpsDocService[] = docRaw
    .map((d) => ({
      id: d.id,
      started_at: d.started_at,
      updated_at: d.updated_at,
      shards: [...new Set(d.shards)].sort((a, b) => a - b),
      docs_loaded: d.docs_loaded,
      workspaces: d.workspaces.length,
    }))
    .sort(byId);

  const perTenant = new Map<string, number>();
  for (const g of gatewaysRaw) {
    for (const [tenant, n] of Object.entries(g.connections_by_tenant))
      perTenant.set(tenant, (perTenant.get(tenant) ?? 0) + n);
  }
  const connectionsByTenant = [...perTenant]
    .map(([tenant, connections]) => ({ tenant, name: tenantNames.get(tenant) ?? null, connections }))
    .sort((a, b) => b.connections - a.connections || a.tenant.localeCompare(b.tenant));

  const docs = new Map<string, { tenant: string; doc: string; subscribers: number; frames: number }>();
  for (const g of gatewaysRaw) {
    for (const d of g.busiest_docs) {
      const key = `${d.tenant}\n${d.doc}`;
      const cur = docs.get(key) ?? { tenant: d.tenant, doc: d.doc, subscribers: 0, frames: 0 };
      cur.subscribers += d.subscribers;
      cur.frames += d.frames;
      docs.set(key, cur);
    }
  }
  const busiestDocs = [...docs.values()]
    .sort((a, b) => b.frames - a.frames || b.subscribers - a.subscribers || a.doc.localeCompare(b.doc))
    .slice(0, 10);

  // Every worker reports the same cluster-wide depths: take the maximum (freshest) per state.
  const depth = new Map<string, QueueCounts>();
  for (const w of workersRaw) {
    for (const [queue, c] of Object.entries(w.queues)) {
      const cur = depth.get(queue) ?? { waiting: 0, active: 0, delayed: 0, failed: 0 };
      depth.set(queue, {
        waiting: Math.max(cur.waiting, c.waiting),
        active: Math.max(cur.active, c.active),
        delayed: Math.max(cur.delayed, c.delayed),
        failed: Math.max(cur.failed, c.failed),
      });
    }
  }
  const fromHeartbeats = depth.size > 0;
  const queueSource = fromHeartbeats ? depth : new Map(Object.entries(input.redisQueueDepths ?? {}));
  const queues = [...queueSource]
    .map(([queue, c]) => ({
      queue,
      source: fromHeartbeats ? ('heartbeat' as const) : ('redis' as const),
      ...c,
    }))
    .sort((a, b) => a.queue.localeCompare(b.queue));

  const peers = new Map<string, number>();
  for (const d of docRaw) {
    for (const w of d.workspaces)
      peers.set(`${w.tenant}\n${w.workspace}`, (peers.get(`${w.tenant}\n${w.workspace}`) ?? 0) + w.peers);
  }
  const all = new Map<string, OpsWorkspaceHealth>();
  const entry = (tenant: string, workspace: string): OpsWorkspaceHealth => {
    const key = `${tenant}\n${workspace}`;
    let e = all.get(key);
    if (!e) {
      e = {
        tenant,
        tenant_name: tenantNames.get(tenant) ?? null,
        workspace,
        name: null,
        status: 'unchecked',
        consecutive_failures: 0,
        issues: 0,
        last_checked_at: null,
        last_ok_at: null,
        last_good_commit: null,
        peers: peers.get(key) ?? 0,
      };
      all.set(key, e);
    }
    return e;
  };
  for (const w of input.workspaces) entry(w.tenant, w.workspace).name = w.name;
  for (const h of input.health) {
    const e = entry(h.tenant, h.workspace);
    Object.assign(e, {
      consecutive_failures: h.consecutive_failures,
      issues: h.issues,
      last_checked_at: h.last_checked_at,
      last_ok_at: h.last_ok_at,
      last_good_commit: h.last_good_commit,
      status: h.consecutive_failures > 0 ? 'failing' : h.last_checked_at ? 'healthy' : 'unchecked',
    });
  }
  for (const key of peers.keys()) {
    const [tenant, workspace] = key.split('\n');
    entry(tenant, workspace);
  }
  const rank = { failing: 0, unchecked: 1, healthy: 2 } as const;
  const workspaces = [...all.values()].sort(
    (a, b) =>
      rank[a.status] - rank[b.status] ||
      b.consecutive_failures - a.consecutive_failures ||
      b.peers - a.peers ||
      a.tenant.localeCompare(b.tenant) ||
      a.workspace.localeCompare(b.workspace),
  );

  return {
    generated_at: input.now.toISOString(),
    served_by: input.servedBy,
    prefix: input.prefix,
    summary: {
      gateways: gateways.length,
      doc_services: docServices.length,
      history_workers: workersRaw.length,
      connections: gatewaysRaw.reduce((n, g) => n + g.connections, 0),
      docs_loaded: docRaw.reduce((n, d) => n + d.docs_loaded, 0),
      shard_count: input.shardCount,
      shards_owned: shardOwners.filter((o) => o !== null).length,
      workspaces: all.size,
      failing_workspaces: workspaces.filter((w) => w.status === 'failing').length,
    },
    gateways,
    doc_services: docServices,
    history_workers: workersRaw
      .map((w) => ({
        id: w.id,
        started_at: w.started_at,
        updated_at: w.updated_at,
        active_jobs: w.active_jobs,
        concurrency: w.concurrency,
      }))
      .sort(byId),
    shard_owners: shardOwners,
    connections_by_tenant: connectionsByTenant,
    busiest_docs: busiestDocs,
    queues,
    recent_rebuilds: input.rebuilds,
    failed_validations: input.failedValidations,
    recent_repairs: input.repairs,
    validation_alerts: input.alerts,
    webhook_deliveries: input.webhookDeliveries ?? [],
    webhook_failures: input.webhookFailures ?? [],
    workspaces: workspaces.slice(0, input.workspaceLimit ?? 200),
    workspaces_total: all.size,
    warnings: [...input.warnings].sort(),
  };
}
