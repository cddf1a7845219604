/**
 * `HistoryQueues`: the producer side of the history jobs, used by the doc service (compaction,
 * "workspace touched") and the gateway (commit/validate/restore on demand, Bull Board).
 *
 * Quiet-period commits: every `touchWorkspace` (re)schedules one delayed `git-commit` job per
 * workspace `quietMs` after the last touch, but never later than `maxWaitMs` after the first
 * touch of the dirty period, so a constantly edited workspace is still committed every
 * `maxWaitMs`. The dirty period is a Redis key holding its start time; the job id contains it, so
 * touches that arrive while a commit runs open a new period and a new job.
 */
import { randomUUID } from 'node:crypto';
import type * as BullMQ from 'bullmq';
import type { Job, JobsOptions, Queue, QueueEvents } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import {
  ALL_QUEUES,
  QUEUE_NAMES,
  jobIdOf,
  queuePrefix,
  type CommitJobResult,
  type CompactionJobData,
  type QueueName,
  type RebuildJobData,
  type RestoreJobData,
  type RestoreJobResult,
  type ValidationJobResult,
  type WorkspaceJobData,
} from './job-types';
import type { FileEventsJobData, WebhookDeliveryJobData } from './webhooks';
import { ATTACHMENT_GC_SWEEP, type AttachmentGcJobData, type AttachmentGcJobResult } from './attachment-gc';

/** Options of {@link HistoryQueues}. */
export interface HistoryQueuesOptions {
  /**
   * Opens a new Redis connection (one node, Sentinel or Cluster; the runtime's `createRedis`);
   * the queues open their own connections with it.
   */
  connect: () => Redis | Cluster;
  /** `REDIS_PREFIX`: the queues' BullMQ prefix is {@link queuePrefix} of it. */
  prefix: string;
  /** Quiet period before an automatic commit (default {@link DEFAULT_QUIET_MS}). */
  quietMs?: number;
  /**
   * Longest delay between the first touch and its commit under constant editing
   * (default {@link DEFAULT_MAX_WAIT_MS}).
   */
  maxWaitMs?: number;
}

/** Default quiet period before an automatic commit (`HISTORY_QUIET_MS`). */
export const DEFAULT_QUIET_MS = 10_000;
/** Default longest wait of an automatic commit under constant editing (`HISTORY_MAX_WAIT_MS`). */
export const DEFAULT_MAX_WAIT_MS = 5 * 60_000;

let bullmq: typeof BullMQ | undefined;
/**
 * BullMQ, loaded on first use: about 7 MB of heap (and its Lua scripts, msgpackr, luxon) that an
 * idle doc service or gateway does not need until something is enqueued.
 */
function loadBullMQ(): typeof BullMQ {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (bullmq ??= require('bullmq') as typeof BullMQ);
}

/** Retries with exponential backoff for every job. */
const RETRY: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 24 * 3600, count: 1000 },
};

/** The Redis key marking a workspace as dirty since its value (ms). */
export function dirtyKey(prefix: string, tenant: string, workspace: string): string {
  return `${prefix}:history:dirty:${tenant}:${workspace}`;
}

/** Thrown by the `…Now` methods when the job fails or does not finish in time. */
export class HistoryJobError extends Error {
  override readonly name = 'HistoryJobError';
}

/** See module doc. */
export class HistoryQueues {
  readonly prefix: string;
  readonly quietMs: number;
  readonly maxWaitMs: number;
  private readonly redis: Redis | Cluster;
  /** Created (and BullMQ loaded) by the first {@link queues} call. */
  private queueObjects: Map<QueueName, Queue> | undefined;
  private readonly events = new Map<QueueName, Promise<QueueEvents>>();
  private readonly eventConnections: (Redis | Cluster)[] = [];

  constructor(private readonly opts: HistoryQueuesOptions) {
    this.prefix = opts.prefix;
    this.quietMs = opts.quietMs ?? DEFAULT_QUIET_MS;
    this.maxWaitMs = opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.redis = opts.connect();
    this.redis.on('error', () => undefined);
  }

  /** The queue objects by name, created on first use (a queue object opens no connection of its own). */
  private get queues(): Map<QueueName, Queue> {
    if (this.queueObjects) return this.queueObjects;
    const bull = loadBullMQ();
    this.queueObjects = new Map();
    for (const name of ALL_QUEUES) {
      const queue = new bull.Queue(name, {
        connection: this.redis,
        prefix: queuePrefix(this.prefix),
        defaultJobOptions: RETRY,
      });
      queue.on('error', () => undefined);
      this.queueObjects.set(name, queue);
    }
    return this.queueObjects;
  }

  /** The BullMQ queue objects (for Bull Board and metrics). */
  all(): Queue[] {
    return [...this.queues.values()];
  }

  queue(name: QueueName): Queue {
    const q = this.queues.get(name);
    if (!q) throw new Error(`unknown queue ${name}`);
    return q;
  }

  /**
   * Compaction of one doc, de-duplicated per doc: while a compaction of the doc is waiting, more
   * requests are no-ops.
   */
  async enqueueCompaction(data: CompactionJobData, delayMs = 0): Promise<void> {
    await this.queue(QUEUE_NAMES.compaction).add('compact', data, {
      jobId: jobIdOf('compact', data.tenant, data.docId),
      delay: delayMs,
      removeOnComplete: true,
      removeOnFail: true,
    });
  }

  /** Marks the workspace as edited: (re)schedules its quiet-period commit. Cheap; call on every change. */
  async touchWorkspace(tenant: string, workspace: string, now = Date.now()): Promise<void> {
    const key = dirtyKey(this.prefix, tenant, workspace);
    await this.redis.set(key, String(now), 'PX', 24 * 3600_000, 'NX');
    const since = Number((await this.redis.get(key)) ?? now);
    const delay = Math.max(0, Math.min(this.quietMs, since + this.maxWaitMs - now));
    const queue = this.queue(QUEUE_NAMES.gitCommit);
    const jobId = jobIdOf('auto', tenant, workspace, String(since));
    const existing = await queue.getJob(jobId);
    if (existing) {
      const state = await existing.getState();
      if (state === 'delayed') {
        await existing.changeDelay(delay).catch(() => undefined);
        return;
      }
      if (state !== 'failed' && state !== 'completed') return; // waiting or running: it will commit
      // A finished job of this dirty period (e.g. failed for good): schedule a fresh one.
      await existing.remove().catch(() => undefined);
    }
    const data: WorkspaceJobData = { tenant, workspace, trigger: 'quiet', dirtySince: since };
    await queue.add('commit', data, { jobId, delay, removeOnComplete: true, removeOnFail: { count: 100 } });
  }

  /** Queues a commit now (not de-duplicated). */
  enqueueCommit(tenant: string, workspace: string, requestedBy?: string): Promise<Job> {
    const data: WorkspaceJobData = { tenant, workspace, trigger: 'demand', requestedBy };
    return this.queue(QUEUE_NAMES.gitCommit).add('commit', data, {
      jobId: jobIdOf('commit', tenant, workspace, randomUUID()),
    });
  }

  /** Commits now and waits for the result. */
  async commitNow(
    tenant: string,
    workspace: string,
    requestedBy?: string,
    timeoutMs = 60_000,
  ): Promise<CommitJobResult> {
    return this.wait<CommitJobResult>(
      QUEUE_NAMES.gitCommit,
      await this.enqueueCommit(tenant, workspace, requestedBy),
      timeoutMs,
    );
  }

  /** Queues a validation of the workspace. */
  enqueueValidation(tenant: string, workspace: string, requestedBy?: string): Promise<Job> {
    const data: WorkspaceJobData = { tenant, workspace, trigger: 'demand', requestedBy };
    return this.queue(QUEUE_NAMES.validation).add('validate', data, {
      jobId: jobIdOf('validate', tenant, workspace, randomUUID()),
    });
  }

  /** Validates now and waits for the result. */
  async validateNow(
    tenant: string,
    workspace: string,
    requestedBy?: string,
    timeoutMs = 60_000,
  ): Promise<ValidationJobResult> {
    return this.wait(
      QUEUE_NAMES.validation,
      await this.enqueueValidation(tenant, workspace, requestedBy),
      timeoutMs,
    );
  }

  /** Queues a rebuild, de-duplicated per workspace while one is waiting. */
  enqueueRebuild(data: RebuildJobData): Promise<Job> {
    return this.queue(QUEUE_NAMES.rebuild).add('rebuild', data, {
      jobId: jobIdOf('rebuild', data.tenant, data.workspace),
      removeOnComplete: true,
      removeOnFail: { count: 100 },
    });
  }

  /**
   * Queues the delivery of one webhook event to one hook, de-duplicated by event and hook (an
   * event emitted twice is delivered once). 8 attempts with exponential backoff from 2 s.
   */
  enqueueWebhookDelivery(data: WebhookDeliveryJobData): Promise<Job> {
    return this.queue(QUEUE_NAMES.webhookDelivery).add(data.event.type, data, {
      jobId: jobIdOf('webhook', data.tenant, data.webhookId, data.event.id),
      attempts: 8,
      backoff: { type: 'exponential', delay: 2000 },
      removeOnComplete: { age: 24 * 3600, count: 1000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
    });
  }

  /** Queues the file changes of one debounce window of a workspace (doc service). */
  enqueueFileEvents(data: FileEventsJobData): Promise<Job> {
    return this.queue(QUEUE_NAMES.webhookEvents).add('file-events', data, {
      jobId: jobIdOf('file-events', data.tenant, data.workspace, randomUUID()),
      removeOnComplete: true,
      removeOnFail: { count: 1000 },
    });
  }

  /**
   * Queues an attachment garbage collection of a tenant, de-duplicated while one is waiting or
   * running (a kept failed job of the tenant is removed first, so it never blocks later runs).
   */
  async enqueueAttachmentGc(data: AttachmentGcJobData): Promise<Job> {
    const queue = this.queue(QUEUE_NAMES.attachmentGc);
    const jobId = jobIdOf('attachment-gc', data.tenant);
    const existing = await queue.getJob(jobId);
    if (existing && (await existing.getState()) === 'failed') await existing.remove().catch(() => undefined);
    return queue.add('attachment-gc', data, { jobId, removeOnComplete: true, removeOnFail: { count: 100 } });
  }

  /**
   * Schedules the attachment GC sweep every `everyMs` (a BullMQ job scheduler, so one sweep per
   * interval however many workers call this; calling it again changes the interval); `0` removes
   * the schedule. The sweep queues {@link enqueueAttachmentGc} for every tenant with attachments.
   */
  async scheduleAttachmentGcSweep(everyMs: number): Promise<void> {
    const queue = this.queue(QUEUE_NAMES.attachmentGc);
    if (everyMs <= 0) {
      await queue.removeJobScheduler(ATTACHMENT_GC_SWEEP);
      return;
    }
    await queue.upsertJobScheduler(
      ATTACHMENT_GC_SWEEP,
      { every: everyMs },
      { name: ATTACHMENT_GC_SWEEP, data: {}, opts: { removeOnComplete: true, removeOnFail: { count: 100 } } },
    );
  }

  /** Collects now and waits for the result. */
  async attachmentGcNow(data: AttachmentGcJobData, timeoutMs = 120_000): Promise<AttachmentGcJobResult> {
    return this.wait(QUEUE_NAMES.attachmentGc, await this.enqueueAttachmentGc(data), timeoutMs);
  }

  /** Queues a restore (to a commit, or an import of an uploaded zip). */
  enqueueRestore(data: RestoreJobData): Promise<Job> {
    return this.queue(QUEUE_NAMES.restore).add('restore', data, {
      jobId: jobIdOf('restore', data.tenant, data.workspace, randomUUID()),
    });
  }

  /** Restores now and waits for the result. */
  async restoreNow(data: RestoreJobData, timeoutMs = 120_000): Promise<RestoreJobResult> {
    return this.wait(QUEUE_NAMES.restore, await this.enqueueRestore(data), timeoutMs);
  }

  /** Waits for a job of `name` to finish; resolves with its return value. */
  async wait<T>(name: QueueName, job: Job, timeoutMs: number): Promise<T> {
    let opening = this.events.get(name);
    if (!opening) {
      opening = this.openEvents(name);
      this.events.set(name, opening);
      opening.catch(() => this.events.delete(name));
    }
    const events = await opening;
    try {
      return (await job.waitUntilFinished(events, timeoutMs)) as T;
    } catch (err) {
      throw new HistoryJobError(`${name} job ${job.id} failed: ${(err as Error).message}`);
    }
  }

  /**
   * Job events of `name`, read from the stream's current end rather than from the first XREAD of
   * the new QueueEvents (its default): a job finishing while it connects would otherwise be
   * missed, since waitUntilFinished checks the job only once, maybe before that XREAD runs.
   */
  private async openEvents(name: QueueName): Promise<QueueEvents> {
    const connection = this.opts.connect();
    connection.on('error', () => undefined);
    this.eventConnections.push(connection);
    const last = await connection.xrevrange(this.queue(name).keys.events, '+', '-', 'COUNT', 1);
    const lastEventId = last[0]?.[0] ?? '0-0';
    const bull = loadBullMQ();
    const events = new bull.QueueEvents(name, {
      connection,
      prefix: queuePrefix(this.prefix),
      lastEventId,
    });
    events.on('error', () => undefined);
    await events.waitUntilReady();
    return events;
  }

  /** Queue depths by state, for metrics and the ops page. */
  async depths(): Promise<Record<QueueName, Record<'waiting' | 'active' | 'delayed' | 'failed', number>>> {
    const out = {} as Record<QueueName, Record<'waiting' | 'active' | 'delayed' | 'failed', number>>;
    for (const [name, q] of this.queues) {
      const c = await q.getJobCounts('waiting', 'active', 'delayed', 'failed');
      out[name] = {
        waiting: c.waiting ?? 0,
        active: c.active ?? 0,
        delayed: c.delayed ?? 0,
        failed: c.failed ?? 0,
      };
    }
    return out;
  }

  /** Closes queues, event listeners and connections. */
  async close(): Promise<void> {
    for (const opening of this.events.values()) {
      const e = await opening.catch(() => null);
      if (!e) continue;
      const conn = await e.client.catch(() => null);
      await e.close().catch(() => undefined);
      conn?.disconnect();
    }
    for (const c of this.eventConnections) c.disconnect();
    for (const q of this.queueObjects?.values() ?? []) await q.close().catch(() => undefined);
    this.redis.disconnect();
  }
}
