/**
 * The BullMQ workers of the history queues (and webhook deliveries), with bounded concurrency, retries (from the
 * producers' job options), job metrics, and graceful shutdown that returns unfinished jobs.
 */
import { DelayedError, Worker, type Job } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { ATTACHMENT_GC_SWEEP, QUEUE_NAMES, queuePrefix, type QueueName } from '@diaryx-sync/bus';
import {
  parseCompactionJob,
  parseRebuildJob,
  parseRestoreJob,
  parseFileEventsJob,
  parseWebhookDeliveryJob,
  parseWorkspaceJob,
} from './jobs/job-payloads';
import type { JobContext } from './jobs/job-context';
import { ShutdownAbortError } from './workspace-lock';
import { runCompaction } from './jobs/compaction';
import { runCommit } from './jobs/commit';
import { runRebuild } from './jobs/rebuild';
import { runRestore } from './jobs/restore';
import { parseAttachmentGcJob, runAttachmentGc, runAttachmentGcSweep } from './jobs/attachment-gc';
import { runValidation } from './jobs/validation';
import { runWebhookDelivery } from './jobs/webhook-delivery';
import { runFileEvents } from './jobs/webhook-events';

export interface HistoryWorkersOptions {
  /** Opens a new Redis connection (the runtime's `createRedis`); one per queue worker. */
  connect: () => Redis | Cluster;
  /** REDIS_PREFIX (the BullMQ prefix is `queuePrefix` of it). */
  prefix: string;
  /** Parallel jobs per queue. */
  concurrency: number;
  /** How long `close()` waits for active jobs before handing them back (default 20 s). */
  drainTimeoutMs?: number;
  /** BullMQ job lock duration (default 30 s): a dead worker's job is stalled and retried after it. */
  lockDurationMs?: number;
}

/** The running workers. */
export interface HistoryWorkers {
  workers: Worker[];
  /** Jobs currently being processed. */
  active(): number;
  /**
   * Resolves once every worker's connections are up (closing a worker whose connection is still
   * initializing makes BullMQ emit an error nobody can listen to any more).
   */
  ready(): Promise<void>;
  /**
   * Stops taking jobs; jobs still waiting for a workspace lock go back to the queue at once;
   * running ones may finish within the drain timeout, after which the connections close and
   * unfinished jobs become stalled and are retried by another worker (they are idempotent).
   */
  close(): Promise<void>;
}

type Processor = (job: Job) => Promise<unknown>;

/** Set by {@link HistoryWorkers.close}: jobs waiting for a workspace lock give up. */
export interface ShutdownFlag {
  value: boolean;
}

function processorFor(ctx: JobContext, name: QueueName): Processor {
  switch (name) {
    case QUEUE_NAMES.compaction:
      return (job) => runCompaction(ctx, parseCompactionJob(job.data));
    case QUEUE_NAMES.validation:
      return (job) => {
        const d = parseWorkspaceJob(job.data);
        return runValidation(ctx, d.tenant, d.workspace);
      };
    case QUEUE_NAMES.gitCommit:
      return (job) => runCommit(ctx, parseWorkspaceJob(job.data));
    case QUEUE_NAMES.rebuild:
      return (job) => runRebuild(ctx, parseRebuildJob(job.data));
    case QUEUE_NAMES.restore:
      return (job) => runRestore(ctx, parseRestoreJob(job.data));
    case QUEUE_NAMES.webhookDelivery:
      return (job) =>
        runWebhookDelivery(ctx, parseWebhookDeliveryJob(job.data), {
          attempt: job.attemptsMade + 1,
          attempts: job.opts.attempts ?? 1,
        });
    case QUEUE_NAMES.webhookEvents:
      return (job) => runFileEvents(ctx, String(job.id), parseFileEventsJob(job.data));
    case QUEUE_NAMES.attachmentGc:
      return (job) =>
        job.name === ATTACHMENT_GC_SWEEP
          ? runAttachmentGcSweep(ctx)
          : runAttachmentGc(ctx, parseAttachmentGcJob(job.data));
  }
}

/** Starts one BullMQ worker per queue. */
export function startHistoryWorkers(
  ctx: JobContext,
  opts: HistoryWorkersOptions,
  shutdown: ShutdownFlag = { value: false },
): HistoryWorkers {
  let active = 0;
  const connections: (Redis | Cluster)[] = [];
  const workers = Object.values(QUEUE_NAMES).map((name) => {
    const connection = opts.connect();
    connection.on('error', () => undefined);
    connections.push(connection);
    const process = processorFor(ctx, name);
    const worker = new Worker(
      name,
      async (job, token) => {
        active++;
        const end = ctx.metrics.jobs.duration.startTimer({ queue: name });
        try {
          const result = await process(job);
          end({ outcome: 'completed' });
          return result;
        } catch (err) {
          if (err instanceof ShutdownAbortError) {
            // Hand the job back without spending an attempt; another worker takes it.
            await job.moveToDelayed(Date.now() + 250, token);
            throw new DelayedError();
          }
          end({ outcome: 'failed' });
          ctx.metrics.jobs.failures.inc({ queue: name });
          ctx.log.error(
            { queue: name, job: job.id, attempt: job.attemptsMade + 1, err },
            'history job failed',
          );
          throw err;
        } finally {
          active--;
        }
      },
      {
        connection,
        prefix: queuePrefix(opts.prefix),
        concurrency: opts.concurrency,
        autorun: true,
        lockDuration: opts.lockDurationMs ?? 30_000,
        stalledInterval: Math.max(1000, Math.floor((opts.lockDurationMs ?? 30_000) / 2)),
        maxStalledCount: 3,
      },
    );
    worker.on('error', (err) => ctx.log.error({ queue: name, err }, 'worker error'));
    return worker;
  });

  return {
    workers,
    active: () => active,
    async ready() {
      await Promise.all(workers.map((w) => w.waitUntilReady()));
    },
    async close() {
      shutdown.value = true;
      const graceful = Promise.all(workers.map((w) => w.close()));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => {
        timer = setTimeout(() => r('timeout'), opts.drainTimeoutMs ?? 20_000);
      });
      const outcome = await Promise.race([graceful.then(() => 'done' as const), timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        // Still running jobs stop being renewed once the connections close: their BullMQ lock
        // expires and another worker retries them (jobs are idempotent).
        ctx.log.warn({ active }, 'drain timeout: unfinished jobs will be retried by another worker');
      }
      for (const c of connections) c.disconnect();
    },
  };
}
