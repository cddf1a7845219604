/**
 * Names and payloads of the history job queues (docs/architecture.md#jobs). Payloads carry
 * ids only, never document bytes (property 4). Results are small JSON values returned by the worker.
 */

/**
 * BullMQ prefix of the history queues: REDIS_PREFIX as a hash tag (`{dx}`), so every key of a
 * queue lives in one Redis Cluster slot as BullMQ requires; the same on every topology
 * (docs/redis.md).
 */
export function queuePrefix(redisPrefix: string): string {
  return `{${redisPrefix}}`;
}

/** The BullMQ queue names (keys live under `${queuePrefix(REDIS_PREFIX)}:{queue}:…`). */
export const QUEUE_NAMES = {
  compaction: 'compaction',
  validation: 'validation',
  gitCommit: 'git-commit',
  rebuild: 'rebuild',
  restore: 'restore',
  /** Change webhooks (jobs/webhooks.ts): one job per event and hook. */
  webhookDelivery: 'webhook-delivery',
  /** File changes reported by the doc service, fanned out to deliveries by the history worker. */
  webhookEvents: 'webhook-events',
  /** Attachment garbage collection per tenant (jobs/attachment-gc.ts). */
  attachmentGc: 'attachment-gc',
} as const;

export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];
export const ALL_QUEUES: QueueName[] = Object.values(QUEUE_NAMES);

/** `compaction`: fold the doc's old updates into its snapshot. */
export interface CompactionJobData {
  tenant: string;
  docId: string;
  /** Override of the worker's `keep_updates` for this job. */
  keepUpdates?: number;
}

/** Why a workspace job was queued. */
export type WorkspaceJobTrigger = 'quiet' | 'demand' | 'rebuild' | 'schedule';

/** `validation` and `git-commit`. */
export interface WorkspaceJobData {
  tenant: string;
  workspace: string;
  trigger: WorkspaceJobTrigger;
  /** Who asked (token subject) for on-demand jobs. */
  requestedBy?: string;
  /** For quiet-period jobs: the dirty-marker value this job clears (ms since epoch). */
  dirtySince?: number;
}

/**
 * `rebuild`: an unreadable CRDT is rebuilt from its last good commit plus every body and workspace
 * entry that can still be read (docs/self-healing.md).
 */
export interface RebuildJobData {
  tenant: string;
  workspace: string;
  reason: string;
  requestedBy?: string;
}

/** `restore`: make the workspace equal to a commit, or import an uploaded zip (by S3 key). */
export interface RestoreJobData {
  tenant: string;
  workspace: string;
  requestedBy?: string;
  source: { kind: 'commit'; commitId: string } | { kind: 'import'; key: string; mode: 'replace' | 'merge' };
}

/** One sanity-check finding, as reported to API callers. */
export interface ValidationIssueSummary {
  kind: string;
  file: string | null;
  message: string;
}

/** Result of a `git-commit` job. */
export type CommitJobResult =
  | { status: 'committed'; commit_id: string; files: number; added: number; changed: number; removed: number }
  | { status: 'nothing_to_commit'; commit_id: string | null }
  | {
      status: 'validation_failed';
      issues: ValidationIssueSummary[];
      /**
       * `skip_commit`: repair in place could not fix the findings, try again later; `alert`: the
       * failure threshold is reached, operators are alerted; `rebuild`: the CRDT is unreadable and a
       * rebuild was queued (docs/self-healing.md). Content is never reverted.
       */
      action: 'skip_commit' | 'alert' | 'rebuild';
    };

/** Result of a `validation` job. */
export interface ValidationJobResult {
  ok: boolean;
  issues: ValidationIssueSummary[];
}

/** Result of `rebuild` and `restore` jobs. */
export interface RestoreJobResult {
  status: 'restored' | 'unchanged';
  /** Commit the workspace now equals (restore/rebuild), if any. */
  commit_id: string | null;
  /** Docs that received a forward update. */
  docs_updated: number;
  /** Files in the resulting workspace. */
  files: number;
  /** S3 key of the pre-change backup (rebuild only). */
  backup_key?: string;
  /** Git ref keeping the pre-rebuild state, `refs/backups/<time>` (rebuild only). */
  backup_ref?: string;
  /** Validation after the change. */
  valid: boolean;
}

/** BullMQ forbids `:` in custom job ids; doc ids contain it, so ids are URI-encoded. */
export function jobIdOf(...parts: string[]): string {
  return parts.map((p) => encodeURIComponent(p)).join('|');
}
