/**
 * Compaction scheduling. A doc is compacted when its update log passes a threshold and when it is
 * unloaded. Until the history worker's `compaction` job exists, {@link InlineCompactionScheduler}
 * runs `PostgresStorage#compact` in-process, one doc at a time, de-duplicated per doc;
 * {@link QueueCompactionScheduler} enqueues a BullMQ job carrying ids only (jobId-deduplicated).
 */
import { tenantKey } from '@diaryx-sync/bus';
import type { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import type { Logger } from '@diaryx-sync/runtime';

/** Why a compaction is requested. */
export type CompactionReason = 'threshold' | 'unload';

/** Schedules compactions (fire and forget). */
export interface CompactionScheduler {
  request(tenant: string, docId: string, reason: CompactionReason): void;
  /** Resolves when no in-process compaction of the doc is running or queued (loads wait for it). */
  idle(tenant: string, docId: string): Promise<void>;
  /** Waits for in-process work, then stops. */
  close(): Promise<void>;
}

/** Options of {@link InlineCompactionScheduler}. */
export interface InlineCompactionOptions {
  storage: PostgresStorage;
  keepUpdates: number;
  logger: Logger;
}

/** Compacts in this process, sequentially. */
export class InlineCompactionScheduler implements CompactionScheduler {
  private readonly queued = new Map<string, Promise<void>>();
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly opts: InlineCompactionOptions) {}

  request(tenant: string, docId: string, reason: CompactionReason): void {
    const key = tenantKey(tenant, docId);
    if (this.queued.has(key)) return;
    const p = this.tail.then(async () => {
      const started = Date.now();
      try {
        await this.opts.storage.forTenant(tenant).compact(docId, this.opts.keepUpdates);
        this.opts.logger.debug({ tenant, docId, reason, ms: Date.now() - started }, 'compacted');
      } catch (err) {
        this.opts.logger.warn({ tenant, docId, err: (err as Error).message }, 'compaction failed');
      } finally {
        this.queued.delete(key);
      }
    });
    this.queued.set(key, p);
    this.tail = p;
  }

  async idle(tenant: string, docId: string): Promise<void> {
    await this.queued.get(tenantKey(tenant, docId));
  }

  async close(): Promise<void> {
    await this.tail;
  }
}

/** Enqueues one compaction job (e.g. `HistoryQueues#enqueueCompaction` of `@diaryx-sync/bus`). */
export type EnqueueCompaction = (tenant: string, docId: string) => Promise<void>;

/**
 * Enqueues `compaction` jobs for the history worker (ids only; the producer de-duplicates by
 * jobId per doc, so repeated requests while one waits are no-ops).
 */
export class QueueCompactionScheduler implements CompactionScheduler {
  constructor(
    private readonly enqueue: EnqueueCompaction,
    private readonly logger: Logger,
  ) {}

  request(tenant: string, docId: string, reason: CompactionReason): void {
    this.enqueue(tenant, docId).catch((err: Error) =>
      this.logger.warn({ tenant, docId, reason, err: err.message }, 'could not enqueue compaction'),
    );
  }

  async idle(): Promise<void> {}

  async close(): Promise<void> {}
}
