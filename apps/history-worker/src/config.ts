/**
 * History-worker settings: the shared service settings of `libs/runtime` plus the worker's own
 * (all optional, with defaults suitable for a developer machine).
 */
import { z } from 'zod';
import { DEFAULT_OBJECT_CACHE_BYTES } from '@diaryx-sync/git-store';
import {
  ATTACHMENT_GC_GRACE_MS,
  ATTACHMENT_GC_INTERVAL_MS,
  DEFAULT_MAX_WAIT_MS,
  DEFAULT_QUIET_MS,
} from '@diaryx-sync/bus';
import { parseEnv, serviceConfigSchema } from '@diaryx-sync/runtime';

const int = (def: number) => z.coerce.number().int().nonnegative().default(def);

export const workerConfigSchema = serviceConfigSchema.extend({
  PORT: int(8090),
  /** Quiet period after the last edit before an automatic commit. */
  HISTORY_QUIET_MS: int(DEFAULT_QUIET_MS),
  /** Under constant editing, commit at least this often. */
  HISTORY_MAX_WAIT_MS: int(DEFAULT_MAX_WAIT_MS),
  /** Updates kept in the log by compaction (recent versions stay browsable). */
  HISTORY_KEEP_UPDATES: int(300),
  /** Jobs processed in parallel per queue by one worker process. */
  HISTORY_CONCURRENCY: int(4).pipe(z.number().min(1).max(64)),
  /** TTL of the per-workspace Redis lock (renewed while held). */
  HISTORY_LOCK_TTL_MS: int(30_000).pipe(z.number().min(1000)),
  /** How long a job waits for a busy workspace's lock before it is retried later. */
  HISTORY_LOCK_WAIT_MS: int(20_000),
  /**
   * Consecutive validation failures (after repair in place) that raise an alert; commits stay
   * stopped until the workspace validates, nothing is reverted (docs/self-healing.md).
   */
  HISTORY_ALERT_THRESHOLD: int(3).pipe(z.number().min(1)),
  /** How long an orphan body doc may wait for its workspace entry before it is adopted. */
  HISTORY_ORPHAN_GRACE_MS: int(60_000),
  /** After a rebuild that did not make the CRDT readable, wait this long before another. */
  HISTORY_REBUILD_COOLDOWN_MS: int(15 * 60_000),
  /** Timeout of one forward update through the cluster. */
  HISTORY_APPLY_TIMEOUT_MS: int(15_000),
  /** On SIGTERM, how long active jobs may run before they are handed back to the queue. */
  HISTORY_DRAIN_TIMEOUT_MS: int(20_000),
  /** BullMQ job lock; a job of a dead worker is retried by another after about this long. */
  HISTORY_JOB_LOCK_MS: int(30_000).pipe(z.number().min(1000)),
  /**
   * Interval of the attachment GC sweep (a BullMQ job scheduler shared by every worker: it
   * queues an `attachment-gc` job per tenant with attachments); 0 removes the schedule.
   */
  ATTACHMENT_GC_INTERVAL_MS: int(ATTACHMENT_GC_INTERVAL_MS),
  /**
   * Grace period of the scheduled collections: unreferenced objects stored more recently are
   * kept (objects touched by `HEAD`/upload are kept for 1 h through their touch key anyway).
   */
  ATTACHMENT_GC_GRACE_MS: int(ATTACHMENT_GC_GRACE_MS),
  /** Bytes of git objects cached in process (objects are immutable, so never stale). */
  GIT_OBJECT_CACHE_BYTES: int(DEFAULT_OBJECT_CACHE_BYTES).pipe(z.number().min(1)),
  GIT_AUTHOR_NAME: z.string().min(1).default('Diaryx Sync'),
  GIT_AUTHOR_EMAIL: z.string().min(3).default('history@diaryx-sync.local'),
});

export type WorkerConfig = z.infer<typeof workerConfigSchema>;

/** Parses the environment (throws `ConfigError` with every problem listed). */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseEnv(workerConfigSchema, env);
}
