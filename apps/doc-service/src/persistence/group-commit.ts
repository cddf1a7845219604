/**
 * Group commit of update-log appends: appends requested while a tenant's previous batch is in
 * flight are collected and written together as ONE `batchAppendUpdates` (one statement, one
 * transaction) per tenant. No artificial delay: an idle tenant's first append is written at once.
 *
 * Before each batch the fencing check (the local lease validity, the fast path) runs for every shard in it; entries
 * of shards that are no longer ours are rejected with {@link FencedError} and never written. The
 * batch itself carries each entry's shard and token, and the database refuses it when a token is
 * stale (docs/fencing.md): those shards are given up ({@link GroupCommitOptions.onStale}), their
 * entries rejected with {@link FencedError}, and the rest written again. Likewise an entry whose
 * workspace guard fails (the workspace was deleted, docs/workspace-deletion.md) is rejected with
 * {@link WorkspaceDeletedError} and the rest written again.
 */
import { WorkspaceGoneError, type UpdateMeta, type WorkspaceGuard } from '@diaryx-sync/crdt';
import { StaleFenceError, type ShardFence } from '@diaryx-sync/crdt/postgres';

/** One update to append. */
export interface AppendRequest {
  tenant: string;
  doc: string;
  shard: number;
  /** Fencing token of the shard when the update was applied. */
  token: number;
  data: Uint8Array;
  meta?: UpdateMeta;
  /** Workspace generation the update is valid for (none = unguarded). */
  workspace?: WorkspaceGuard;
}

/** The writer of one batch (PostgresStorage#batchAppendUpdates for that tenant). */
export type BatchWriter = (
  tenant: string,
  entries: {
    doc: string;
    data: Uint8Array;
    meta?: UpdateMeta;
    fence: ShardFence;
    workspace?: WorkspaceGuard;
  }[],
) => Promise<unknown>;

/** Fencing check: the shards (with these tokens) still owned (local lease validity, no I/O). */
export type FenceCheck = (shards: Set<number>, tokens: ReadonlyMap<number, number>) => Set<number>;

/** The append was refused because the shard's lease is no longer held by this instance. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
}

/** The append was refused because its workspace was deleted (or deleted and re-created). */
export class WorkspaceDeletedError extends Error {
  override readonly name = 'WorkspaceDeletedError';
}

/** Options of {@link GroupCommitter}. */
export interface GroupCommitOptions {
  write: BatchWriter;
  fence: FenceCheck;
  /** Most entries per batch (default 512). */
  maxBatch?: number;
  /** Observes each written batch (metrics). */
  onBatch?: (size: number, seconds: number) => void;
  /** Observes a failed batch. */
  onFailure?: (err: Error, size: number) => void;
  /** The database refused the batch: these shards have a newer owner (give them up at once). */
  onStale?: (shards: number[]) => void;
}

interface Queued {
  req: AppendRequest;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** See module doc. */
export class GroupCommitter {
  private readonly queues = new Map<string, Queued[]>();
  private readonly flushing = new Map<string, Promise<void>>();
  private readonly maxBatch: number;
  /** Entries taken from the queues whose batch is being written. */
  private inFlight = 0;

  constructor(private readonly opts: GroupCommitOptions) {
    this.maxBatch = opts.maxBatch ?? 512;
  }

  /** Resolves once the update is durable; rejects with {@link FencedError} or the database error. */
  append(req: AppendRequest): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let q = this.queues.get(req.tenant);
      if (!q) this.queues.set(req.tenant, (q = []));
      q.push({ req, resolve, reject });
      if (!this.flushing.has(req.tenant)) this.startFlush(req.tenant);
    });
  }

  /** Resolves when nothing is queued or in flight. */
  async drain(): Promise<void> {
    while (this.flushing.size > 0) await Promise.allSettled([...this.flushing.values()]);
  }

  /** Updates queued or in flight (gauge). */
  get pending(): number {
    let n = this.inFlight;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  private startFlush(tenant: string): void {
    const p: Promise<void> = this.flushLoop(tenant).finally(() => {
      // normally already removed by flushLoop (in the same tick as the queue); this is the safety net
      if (this.flushing.get(tenant) !== p) return;
      this.flushing.delete(tenant);
      if ((this.queues.get(tenant)?.length ?? 0) > 0) this.startFlush(tenant);
    });
    this.flushing.set(tenant, p);
  }

  private async flushLoop(tenant: string): Promise<void> {
    // Let every append of the current tick join the first batch.
    await Promise.resolve();
    for (;;) {
      const q = this.queues.get(tenant);
      if (!q || q.length === 0) {
        // queue and flusher go away together, so a later append always starts a new flusher
        this.queues.delete(tenant);
        this.flushing.delete(tenant);
        return;
      }
      const batch = q.splice(0, this.maxBatch);
      this.inFlight += batch.length;
      try {
        await this.writeBatch(tenant, batch);
      } finally {
        this.inFlight -= batch.length;
      }
    }
  }

  private async writeBatch(tenant: string, batch: Queued[]): Promise<void> {
    const tokens = new Map<number, number>();
    for (const e of batch) tokens.set(e.req.shard, e.req.token);
    const valid = this.opts.fence(new Set(tokens.keys()), tokens);
    let ok: Queued[] = [];
    for (const e of batch) {
      if (valid.has(e.req.shard) && tokens.get(e.req.shard) === e.req.token) ok.push(e);
      else e.reject(fenced(e.req));
    }
    // A stale shard fails the whole statement: write the others again (at most once per shard).
    while (ok.length > 0) {
      const started = process.hrtime.bigint();
      try {
        await this.opts.write(
          tenant,
          ok.map((e) => ({
            doc: e.req.doc,
            data: e.req.data,
            meta: e.req.meta,
            fence: { shard: e.req.shard, token: e.req.token },
            ...(e.req.workspace ? { workspace: e.req.workspace } : {}),
          })),
        );
      } catch (err) {
        if (err instanceof StaleFenceError) {
          const stale = new Set(err.shards);
          this.opts.onStale?.(err.shards);
          for (const e of ok) if (stale.has(e.req.shard)) e.reject(fenced(e.req));
          const rest = ok.filter((e) => !stale.has(e.req.shard));
          if (rest.length < ok.length) {
            ok = rest;
            continue;
          }
        }
        if (err instanceof WorkspaceGoneError) {
          const gone = new Set(err.workspaces);
          const isGone = (e: Queued) => e.req.workspace !== undefined && gone.has(e.req.workspace.id);
          for (const e of ok) if (isGone(e)) e.reject(new WorkspaceDeletedError(err.message));
          const rest = ok.filter((e) => !isGone(e));
          if (rest.length < ok.length) {
            ok = rest;
            continue;
          }
        }
        this.opts.onFailure?.(err as Error, ok.length);
        for (const e of ok) e.reject(err as Error);
        return;
      }
      this.opts.onBatch?.(ok.length, Number(process.hrtime.bigint() - started) / 1e9);
      for (const e of ok) e.resolve();
      return;
    }
  }
}

const fenced = (req: AppendRequest) =>
  new FencedError(`shard ${req.shard} is no longer owned (token ${req.token})`);
