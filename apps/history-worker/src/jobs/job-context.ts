/** Everything a job processor needs, built once per worker process. */
import type { Logger } from '@diaryx-sync/runtime';
import type { DiaryxMetrics, RedisClient } from '@diaryx-sync/runtime';
import type { ObjectStorage } from '@diaryx-sync/objstore';
import type {
  AuditLog,
  GitStore,
  HealthStore,
  WebhookDeliveryLog,
  WebhookStore,
} from '@diaryx-sync/git-store';
import type { HistoryQueues } from '@diaryx-sync/bus';
import type { CrdtStorage } from '@diaryx-sync/crdt';
import type { WorkerConfig } from '../config';
import type { WorkspaceModel } from '../workspace/workspace-model';

/** Sends a forward update through the owning shard (ClusterClient.applyUpdate). */
export type ApplyUpdate = (req: {
  tenant: string;
  docId: string;
  update: Uint8Array;
  origin: string;
}) => Promise<void>;

export interface JobContext {
  config: Pick<
    WorkerConfig,
    | 'HISTORY_KEEP_UPDATES'
    | 'HISTORY_LOCK_TTL_MS'
    | 'HISTORY_LOCK_WAIT_MS'
    | 'HISTORY_ALERT_THRESHOLD'
    | 'HISTORY_ORPHAN_GRACE_MS'
    | 'HISTORY_REBUILD_COOLDOWN_MS'
    | 'GIT_AUTHOR_NAME'
    | 'GIT_AUTHOR_EMAIL'
    | 'REDIS_PREFIX'
    | 'ATTACHMENT_GC_GRACE_MS'
  >;
  redis: RedisClient;
  log: Logger;
  metrics: DiaryxMetrics;
  objects: ObjectStorage;
  git: GitStore;
  health: HealthStore;
  audit: AuditLog;
  /** Change webhooks of every tenant (jobs/webhook-events.ts). */
  webhooks: WebhookStore;
  /** Every webhook delivery attempt, shown on `/ops` (jobs/webhook-delivery.ts). */
  webhookDeliveries: WebhookDeliveryLog;
  queues: HistoryQueues;
  /** Every tenant id (the gateway's `tenants` table; the attachment GC sweep). */
  tenantIds(): Promise<string[]>;
  /** The CRDT storage of a tenant. */
  storageFor(tenant: string): CrdtStorage;
  model: WorkspaceModel;
  applyUpdate: ApplyUpdate;
  /** True once the worker is draining: jobs still waiting for a workspace lock go back to the queue. */
  shuttingDown(): boolean;
}
