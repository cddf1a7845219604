/**
 * The Prometheus metric catalogue shared by every Diaryx Sync service (prom-client).
 *
 * Use {@link createMetrics} on your service's own `Registry` (never the prom-client global one:
 * tests run several services in one process) and record through the returned typed handles.
 * Each service exports only its own part of the catalogue ({@link SERVICE_METRIC_GROUPS}: the
 * gateway its `gateway`/`http` metrics, doc services `shards`/`docs`/`postgres`, history workers
 * `jobs`/`validation`/`webhooks`; `updateStage` on the gateway and doc services), so no service shows
 * permanently-zero series of another; `diaryx_build_info` and prom-client's defaults are on all.
 *
 * Names (all prefixed `diaryx_`; labels in braces; the registry also carries the default labels
 * `service` and `instance_id`):
 *
 * Gateway (WebSocket + HTTP):
 * - `diaryx_gateway_connections{endpoint}` gauge — open sockets (`endpoint`: `sync2` | `yjs`).
 * - `diaryx_gateway_connections_opened_total{endpoint}` counter — accepted sockets.
 * - `diaryx_gateway_docs_subscribed` gauge — docs this gateway currently subscribes to.
 * - `diaryx_gateway_frames_received_total{type}` / `diaryx_gateway_frames_sent_total{type}` counters —
 *   frames by message type (`sync_step1`, `sync_step2`, `update`, `awareness`, `control`, `ping`, …).
 * - `diaryx_gateway_bytes_received_total` / `diaryx_gateway_bytes_sent_total` counters.
 * - `diaryx_gateway_closes_total{code}` counter — socket close codes (1000, 1001, 1008, 1009, 1013, …).
 * - `diaryx_gateway_auth_failures_total{reason}` counter — rejected tokens / forbidden docs.
 * - `diaryx_gateway_frames_dropped_total{reason}` counter — rate-limited, too large, slow consumer, …
 * - `diaryx_gateway_forward_retries_total` counter — frames re-published because no owner answered.
 * - `diaryx_gateway_resyncs_total` counter — clients told to resync (close 1013).
 * - `diaryx_gateway_admin_logins_total{outcome}` counter — `/ops/login` attempts: `succeeded`,
 *   `failed` (wrong token), `throttled` (refused with 429 while the source address is locked out).
 * - `diaryx_http_request_duration_seconds{method,route,status}` histogram — HTTP API.
 *
 * End-to-end update latency, measured from the moment the gateway received the frame
 * (the receive timestamp travels in the bus envelope):
 * - `diaryx_update_stage_seconds{stage}` histogram, `stage`: `applied` (shard applied it),
 *   `persisted` (durable in PostgreSQL), `delivered` (broadcast written to a subscriber socket).
 *
 * Doc service (shards):
 * - `diaryx_shards_owned` gauge — shards whose lease this instance holds.
 * - `diaryx_shard_rebalances_total{event}` counter — `acquired` | `released` | `lost`.
 * - `diaryx_docs_loaded` gauge — docs held in memory.
 * - `diaryx_doc_loads_total` / `diaryx_doc_unloads_total` counters; `diaryx_doc_load_seconds` histogram.
 * - `diaryx_updates_applied_total` counter — updates applied by shard owners.
 * - `diaryx_doc_output_failures_total` counter — a reply, broadcast or `saved` of a doc that could
 *   not be published (logged with the doc id; the client retries or resyncs).
 * - `diaryx_doc_pending_dropped_total{reason}` counter — Yjs pending state dropped instead of
 *   carried (`refused`: an update pushed it over the bound, its connection closed with 4400;
 *   `stale`: older than the bound; `load`: found in a doc's stored state). See docs/limits.md.
 * - `diaryx_tenant_inbox_depth{tenant}` gauge — inbox envelopes waiting in a tenant's fair queue.
 * - `diaryx_tenant_inbox_dropped_total` counter — envelopes refused because a tenant's queue was full.
 * - `diaryx_workspace_deletions_total` counter — workspaces ended on this instance (docs dropped).
 * - `diaryx_focus_list_truncated_total` counter — workspace focus lists cut to the fan-out bound.
 * - `diaryx_pg_append_batch_size` histogram — updates per PostgreSQL append batch.
 * - `diaryx_pg_append_seconds` histogram — latency of one append batch.
 * - `diaryx_pg_append_failures_total` counter.
 *
 * History worker (BullMQ):
 * - `diaryx_queue_depth{queue,state}` gauge — cluster-wide jobs per queue as seen by this worker
 *   (`state`: `waiting` | `active` | `delayed` | `failed`); aggregate with `max`, not `sum`.
 * - `diaryx_job_duration_seconds{queue,outcome}` histogram — `outcome`: `completed` | `failed`.
 * - `diaryx_job_failures_total{queue}` counter.
 * - `diaryx_validation_failures_total{check}` counter — failed sanity checks by kind.
 * - `diaryx_rebuilds_total{outcome}` counter — rebuilds of an unreadable CRDT (`succeeded` | `failed`).
 * - `diaryx_repairs_total{kind}` counter — repairs in place by kind (docs/self-healing.md).
 * - `diaryx_validation_alerts_total` counter — workspaces that still failed validation after
 *   repair at the failure threshold (commits stopped, an operator must look).
 * - `diaryx_git_commits_total` counter.
 * - `diaryx_webhook_deliveries_total{outcome}` counter — webhook delivery attempts
 *   (docs/protocol.md#webhooks): `delivered` (2xx), `failed` (retried later), `gave_up` (the last
 *   attempt failed).
 * - `diaryx_webhook_delivery_seconds{outcome}` histogram — duration of one delivery attempt.
 *
 * Process (every service):
 * - prom-client default metrics (`process_*`, `nodejs_*`, including `nodejs_eventloop_lag_*`).
 * - `diaryx_build_info{version,node}` gauge, always 1.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric name of the catalogue, for dashboards, alerts and tests. */
export const METRIC_NAMES = {
  gatewayConnections: 'diaryx_gateway_connections',
  gatewayConnectionsOpened: 'diaryx_gateway_connections_opened_total',
  gatewayDocsSubscribed: 'diaryx_gateway_docs_subscribed',
  gatewayFramesReceived: 'diaryx_gateway_frames_received_total',
  gatewayFramesSent: 'diaryx_gateway_frames_sent_total',
  gatewayBytesReceived: 'diaryx_gateway_bytes_received_total',
  gatewayBytesSent: 'diaryx_gateway_bytes_sent_total',
  gatewayCloses: 'diaryx_gateway_closes_total',
  gatewayAuthFailures: 'diaryx_gateway_auth_failures_total',
  gatewayFramesDropped: 'diaryx_gateway_frames_dropped_total',
  gatewayForwardRetries: 'diaryx_gateway_forward_retries_total',
  gatewayResyncs: 'diaryx_gateway_resyncs_total',
  gatewayAdminLogins: 'diaryx_gateway_admin_logins_total',
  httpRequestDuration: 'diaryx_http_request_duration_seconds',
  updateStage: 'diaryx_update_stage_seconds',
  shardsOwned: 'diaryx_shards_owned',
  shardRebalances: 'diaryx_shard_rebalances_total',
  docsLoaded: 'diaryx_docs_loaded',
  docLoads: 'diaryx_doc_loads_total',
  docUnloads: 'diaryx_doc_unloads_total',
  docLoadSeconds: 'diaryx_doc_load_seconds',
  updatesApplied: 'diaryx_updates_applied_total',
  docPendingDropped: 'diaryx_doc_pending_dropped_total',
  docOutputFailures: 'diaryx_doc_output_failures_total',
  tenantInboxDepth: 'diaryx_tenant_inbox_depth',
  tenantInboxDropped: 'diaryx_tenant_inbox_dropped_total',
  workspaceDeletions: 'diaryx_workspace_deletions_total',
  focusListTruncated: 'diaryx_focus_list_truncated_total',
  pgAppendBatchSize: 'diaryx_pg_append_batch_size',
  pgAppendSeconds: 'diaryx_pg_append_seconds',
  pgAppendFailures: 'diaryx_pg_append_failures_total',
  queueDepth: 'diaryx_queue_depth',
  jobDuration: 'diaryx_job_duration_seconds',
  jobFailures: 'diaryx_job_failures_total',
  validationFailures: 'diaryx_validation_failures_total',
  rebuilds: 'diaryx_rebuilds_total',
  repairs: 'diaryx_repairs_total',
  validationAlerts: 'diaryx_validation_alerts_total',
  gitCommits: 'diaryx_git_commits_total',
  webhookDeliveries: 'diaryx_webhook_deliveries_total',
  webhookDeliverySeconds: 'diaryx_webhook_delivery_seconds',
  buildInfo: 'diaryx_build_info',
} as const;

/** Groups of {@link DiaryxMetrics} (each a set of related metrics). */
export type MetricGroup = Exclude<keyof DiaryxMetrics, 'registry' | 'stop'>;
/** Every group, in catalogue order. */
export const METRIC_GROUPS: readonly MetricGroup[] = [
  'gateway',
  'http',
  'updateStage',
  'shards',
  'docs',
  'postgres',
  'jobs',
  'validation',
  'webhooks',
];
/** The services with their own part of the catalogue. */
export type MetricService = 'gateway' | 'doc-service' | 'history-worker';
/** The groups each service exports (`diaryx_build_info` and prom-client defaults: every service). */
export const SERVICE_METRIC_GROUPS: Readonly<Record<MetricService, readonly MetricGroup[]>> = {
  gateway: ['gateway', 'http', 'updateStage'],
  'doc-service': ['updateStage', 'shards', 'docs', 'postgres'],
  'history-worker': ['jobs', 'validation', 'webhooks'],
};

/** Which service a registry belongs to (the `service` default label). */
export type ServiceKind = 'gateway' | 'doc-service' | 'history-worker' | (string & {});

/** Options of {@link createMetrics}. */
export interface MetricsOptions {
  /** Value of the `service` default label. */
  service: ServiceKind;
  /** Value of the `instance_id` default label (e.g. the heartbeat id); omitted when not given. */
  instanceId?: string;
  /** Register prom-client default process/Node.js metrics (default true). */
  defaultMetrics?: boolean;
  /** Version reported by `diaryx_build_info` (default: npm_package_version or `0.0.0`). */
  version?: string;
}

/** Reasons of {@link METRIC_NAMES.gatewayFramesDropped} (initialised to 0 on the gateway). */
export const FRAME_DROP_REASONS = [
  'slow_consumer',
  'rate_limited',
  'tenant_rate_limited',
  'control_rate_limited',
  'tenant_connection_limit',
  'focus_limit',
  'too_large',
  'malformed',
] as const;

/** Socket endpoints of the gateway. */
export type GatewayEndpoint = 'sync2' | 'yjs';
/** Stages of {@link METRIC_NAMES.updateStage}, all measured from gateway receive. */
export type UpdateStage = 'applied' | 'persisted' | 'delivered';
/** Lease events of {@link METRIC_NAMES.shardRebalances}. */
export type ShardEvent = 'acquired' | 'released' | 'lost';
/** Outcomes of {@link METRIC_NAMES.webhookDeliveries} (initialised to 0 on the history worker). */
export const WEBHOOK_DELIVERY_OUTCOMES = ['delivered', 'failed', 'gave_up'] as const;
/** One of {@link WEBHOOK_DELIVERY_OUTCOMES}. */
export type WebhookDeliveryOutcome = (typeof WEBHOOK_DELIVERY_OUTCOMES)[number];
/** BullMQ job states reported by {@link METRIC_NAMES.queueDepth}. */
export type QueueState = 'waiting' | 'active' | 'delayed' | 'failed';

/** Typed handles of the whole catalogue; see the file header for meanings and labels. */
export interface DiaryxMetrics {
  readonly registry: Registry;
  readonly gateway: {
    connections: Gauge<'endpoint'>;
    connectionsOpened: Counter<'endpoint'>;
    docsSubscribed: Gauge<string>;
    framesReceived: Counter<'type'>;
    framesSent: Counter<'type'>;
    bytesReceived: Counter<string>;
    bytesSent: Counter<string>;
    closes: Counter<'code'>;
    authFailures: Counter<'reason'>;
    framesDropped: Counter<'reason'>;
    forwardRetries: Counter<string>;
    resyncs: Counter<string>;
    adminLogins: Counter<'outcome'>;
  };
  readonly http: { requestDuration: Histogram<'method' | 'route' | 'status'> };
  /** `updateStage.observe({ stage: 'persisted' }, seconds)` — see {@link observeStageSince}. */
  readonly updateStage: Histogram<'stage'>;
  readonly shards: {
    owned: Gauge<string>;
    rebalances: Counter<'event'>;
  };
  readonly docs: {
    loaded: Gauge<string>;
    loads: Counter<string>;
    unloads: Counter<string>;
    loadSeconds: Histogram<string>;
    updatesApplied: Counter<string>;
    pendingDropped: Counter<'reason'>;
    outputFailures: Counter<string>;
    tenantInboxDepth: Gauge<'tenant'>;
    tenantInboxDropped: Counter<string>;
    workspaceDeletions: Counter<string>;
    focusListTruncated: Counter<string>;
  };
  readonly postgres: {
    appendBatchSize: Histogram<string>;
    appendSeconds: Histogram<string>;
    appendFailures: Counter<string>;
  };
  readonly jobs: {
    queueDepth: Gauge<'queue' | 'state'>;
    duration: Histogram<'queue' | 'outcome'>;
    failures: Counter<'queue'>;
  };
  readonly validation: {
    failures: Counter<'check'>;
    rebuilds: Counter<'outcome'>;
    repairs: Counter<'kind'>;
    alerts: Counter<string>;
    gitCommits: Counter<string>;
  };
  readonly webhooks: {
    deliveries: Counter<'outcome'>;
    deliverySeconds: Histogram<'outcome'>;
  };
  /**
   * Shutdown hook of the catalogue. It holds no timers (event-loop delay comes from prom-client's
   * `nodejs_eventloop_lag_*` defaults), so this does nothing; metrics stay registered.
   */
  stop(): void;
}

/** Latency buckets (seconds) for sub-second work: 0.5 ms … 10 s. */
export const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** Duration buckets (seconds) for jobs: 10 ms … 10 min. */
export const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Bucket bounds for PostgreSQL append batch sizes (updates per batch). */
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

const created = new WeakMap<Registry, DiaryxMetrics>();

/**
 * Registers the service's part of the catalogue (plus prom-client default metrics) on `registry`
 * and sets its default labels. Every handle of {@link DiaryxMetrics} exists, but only the groups
 * of {@link SERVICE_METRIC_GROUPS} for `options.service` are exported (a service not listed there
 * exports everything). Idempotent per registry: a second call returns the same handles.
 */
export function createMetrics(registry: Registry, options: MetricsOptions): DiaryxMetrics {
  const existing = created.get(registry);
  if (existing) return existing;

  const labels: Record<string, string> = { service: options.service };
  if (options.instanceId) labels.instance_id = options.instanceId;
  registry.setDefaultLabels(labels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  const registers = [registry];
  const counter = <L extends string = string>(name: string, help: string, labelNames: L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers });
  const gauge = <L extends string = string>(name: string, help: string, labelNames: L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers });
  const histogram = <L extends string = string>(
    name: string,
    help: string,
    buckets: number[],
    labelNames: L[] = [],
  ) => new Histogram<L>({ name, help, buckets, labelNames, registers });
  const N = METRIC_NAMES;

  const version = options.version ?? process.env.npm_package_version ?? '0.0.0';
  gauge<'version' | 'node'>(N.buildInfo, 'Build information; always 1.', ['version', 'node']).set(
    { version, node: process.versions.node },
    1,
  );

  const metrics: DiaryxMetrics = {
    registry,
    gateway: {
      connections: gauge(N.gatewayConnections, 'Open WebSocket connections on this gateway.', ['endpoint']),
      connectionsOpened: counter(N.gatewayConnectionsOpened, 'WebSocket connections accepted.', ['endpoint']),
      docsSubscribed: gauge(N.gatewayDocsSubscribed, 'Documents this gateway subscribes to.'),
      framesReceived: counter(N.gatewayFramesReceived, 'Frames received from clients, by type.', ['type']),
      framesSent: counter(N.gatewayFramesSent, 'Frames sent to clients, by type.', ['type']),
      bytesReceived: counter(N.gatewayBytesReceived, 'Bytes received from clients.'),
      bytesSent: counter(N.gatewayBytesSent, 'Bytes sent to clients.'),
      closes: counter(N.gatewayCloses, 'WebSocket closes, by close code.', ['code']),
      authFailures: counter(N.gatewayAuthFailures, 'Authentication/authorization failures, by reason.', [
        'reason',
      ]),
      framesDropped: counter(N.gatewayFramesDropped, 'Frames dropped (rate limit, size, slow consumer).', [
        'reason',
      ]),
      forwardRetries: counter(
        N.gatewayForwardRetries,
        'Frames re-published because no shard owner answered.',
      ),
      resyncs: counter(N.gatewayResyncs, 'Clients told to resync (close 1013).'),
      adminLogins: counter(
        N.gatewayAdminLogins,
        '/ops/login attempts by outcome (succeeded, failed, throttled).',
        ['outcome'],
      ),
    },
    http: {
      requestDuration: histogram(N.httpRequestDuration, 'HTTP request duration (seconds).', LATENCY_BUCKETS, [
        'method',
        'route',
        'status',
      ]),
    },
    updateStage: histogram(
      N.updateStage,
      'Latency from gateway receive to a stage (applied, persisted, delivered), seconds.',
      LATENCY_BUCKETS,
      ['stage'],
    ),
    shards: {
      owned: gauge(N.shardsOwned, 'Shards whose lease this instance holds.'),
      rebalances: counter(N.shardRebalances, 'Shard lease changes (acquired, released, lost).', ['event']),
    },
    docs: {
      loaded: gauge(N.docsLoaded, 'Documents held in memory.'),
      loads: counter(N.docLoads, 'Documents loaded from storage.'),
      unloads: counter(N.docUnloads, 'Documents unloaded from memory.'),
      loadSeconds: histogram(N.docLoadSeconds, 'Time to load a document (seconds).', LATENCY_BUCKETS),
      updatesApplied: counter(N.updatesApplied, 'Updates applied by shard owners.'),
      outputFailures: counter(
        N.docOutputFailures,
        'Doc outputs (reply, broadcast, saved) that failed to publish.',
      ),
      pendingDropped: counter(
        N.docPendingDropped,
        'Yjs pending state dropped instead of carried (refused update, or found at load).',
        ['reason'],
      ),
      tenantInboxDepth: gauge(N.tenantInboxDepth, 'Inbox envelopes waiting in a tenant fair queue.', [
        'tenant',
      ]),
      tenantInboxDropped: counter(N.tenantInboxDropped, 'Envelopes refused because a tenant queue was full.'),
      workspaceDeletions: counter(N.workspaceDeletions, 'Deleted workspaces ended on this instance.'),
      focusListTruncated: counter(N.focusListTruncated, 'Workspace focus lists cut to the fan-out bound.'),
    },
    postgres: {
      appendBatchSize: histogram(
        N.pgAppendBatchSize,
        'Updates per PostgreSQL append batch.',
        BATCH_SIZE_BUCKETS,
      ),
      appendSeconds: histogram(
        N.pgAppendSeconds,
        'Latency of one PostgreSQL append batch (seconds).',
        LATENCY_BUCKETS,
      ),
      appendFailures: counter(N.pgAppendFailures, 'Failed PostgreSQL append batches.'),
    },
    jobs: {
      queueDepth: gauge(N.queueDepth, 'BullMQ jobs per queue and state.', ['queue', 'state']),
      duration: histogram(N.jobDuration, 'Job duration by queue and outcome (seconds).', JOB_BUCKETS, [
        'queue',
        'outcome',
      ]),
      failures: counter(N.jobFailures, 'Failed job attempts, by queue.', ['queue']),
    },
    validation: {
      failures: counter(N.validationFailures, 'Failed workspace sanity checks, by check.', ['check']),
      rebuilds: counter(N.rebuilds, 'Rebuilds of an unreadable workspace CRDT, by outcome.', ['outcome']),
      repairs: counter(N.repairs, 'Workspace repairs in place, by kind.', ['kind']),
      alerts: counter(
        N.validationAlerts,
        'Workspaces still failing validation after repair at the threshold.',
      ),
      gitCommits: counter(N.gitCommits, 'Git commits written.'),
    },
    webhooks: {
      deliveries: counter(
        N.webhookDeliveries,
        'Webhook delivery attempts by outcome (delivered, failed, gave_up).',
        ['outcome'],
      ),
      deliverySeconds: histogram(
        N.webhookDeliverySeconds,
        'Duration of one webhook delivery attempt by outcome (seconds).',
        LATENCY_BUCKETS,
        ['outcome'],
      ),
    },
    stop: () => undefined,
  };
  const own = SERVICE_METRIC_GROUPS[options.service as MetricService] as readonly MetricGroup[] | undefined;
  if (own)
    for (const group of METRIC_GROUPS)
      if (!own.includes(group))
        for (const name of metricNamesOf(metrics[group])) registry.removeSingleMetric(name);
  // Every drop reason has a series from the start (0), so its panel shows 0, not "No data".
  if (options.service === 'gateway')
    for (const reason of FRAME_DROP_REASONS) metrics.gateway.framesDropped.inc({ reason }, 0);
  if (options.service === 'history-worker')
    for (const outcome of WEBHOOK_DELIVERY_OUTCOMES) metrics.webhooks.deliveries.inc({ outcome }, 0);
  created.set(registry, metrics);
  return metrics;
}

/**
 * Convenience: a fresh `Registry` with the catalogue registered on it.
 * `const metrics = createMetricsRegistry({ service: 'doc-service', instanceId })`, then serve
 * `metrics.registry` on `/metrics`.
 */
export function createMetricsRegistry(options: MetricsOptions): DiaryxMetrics {
  return createMetrics(new Registry(), options);
}

/**
 * Records `stage` latency from a gateway receive timestamp (`Date.now()` milliseconds, as carried
 * in the bus envelope). Negative values (clock skew between hosts) are clamped to 0.
 */
export function observeStageSince(
  metrics: DiaryxMetrics,
  stage: UpdateStage,
  receivedAtMs: number,
  now = Date.now(),
): void {
  metrics.updateStage.observe({ stage }, Math.max(0, now - receivedAtMs) / 1000);
}

/** Names of the prom-client metrics in one group of {@link DiaryxMetrics} (a metric or a record of them). */
function metricNamesOf(group: unknown): string[] {
  const isMetric = (m: unknown): m is { name: string } =>
    typeof m === 'object' && m !== null && typeof (m as { name?: unknown }).name === 'string' && 'get' in m;
  if (isMetric(group)) return [group.name];
  return Object.values(group as Record<string, unknown>).flatMap((m) => (isMetric(m) ? [m.name] : []));
}
