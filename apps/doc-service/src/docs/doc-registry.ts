/**
 * The documents a doc-service instance holds in memory: loads on first use (snapshot + later
 * updates from `PostgresStorage`), keeps at most `maxLoadedDocs` (least recently used idle docs
 * are unloaded first), unloads docs idle for `idleMs`, and drops a lost shard's docs at once.
 *
 * Unloading is graceful: the doc leaves the map at once (new messages load a fresh copy, which
 * waits until the old copy's pending outputs and persists are done), then compaction is
 * requested when the log grew. Dropping (lease lost, persist failed) persists nothing.
 */
import { tenantKey } from '@diaryx-sync/bus';
import type { PostgresStorage } from '@diaryx-sync/crdt/postgres';
import type { ParsedDocId } from '@diaryx-sync/crdt';
import type { Logger, DiaryxMetrics } from '@diaryx-sync/runtime';
import type { CompactionScheduler } from '../persistence/compaction';
import type { WorkspaceDirectory } from '../persistence/workspace-directory';
import { LoadedDoc } from './loaded-doc';

/** The doc's workspace does not exist in its tenant. */
export class WorkspaceNotFoundError extends Error {
  override readonly name = 'WorkspaceNotFoundError';
}

/** The shard stopped being served while the doc was loading. */
export class ShardNotServedError extends Error {
  override readonly name = 'ShardNotServedError';
}

/** Options of {@link DocRegistry}. */
export interface DocRegistryOptions {
  storage: PostgresStorage;
  directory: WorkspaceDirectory;
  compaction: CompactionScheduler;
  /** Request a compaction once this many updates are in a doc's log. */
  compactionThreshold: number;
  /** Updates compaction keeps in the log (unload compacts only when the log is longer). */
  compactKeepUpdates: number;
  maxLoadedDocs: number;
  idleMs: number;
  /** True while `shard` is served with fencing `token`. */
  isServing: (shard: number, token: number) => boolean;
  logger: Logger;
  metrics?: DiaryxMetrics;
}

/** See module doc. */
export class DocRegistry {
  /** Loaded docs in least-recently-used order (oldest first). */
  private readonly docs = new Map<string, LoadedDoc>();
  private readonly loading = new Map<string, Promise<LoadedDoc>>();
  private readonly unloading = new Map<string, Promise<void>>();
  /**
   * Per `tenant\0workspace`: bumped when the workspace is deleted, so a load that started before
   * cannot put a doc of the deleted workspace into memory.
   */
  private readonly workspaceEpochs = new Map<string, number>();

  constructor(private readonly opts: DocRegistryOptions) {}

  /** Number of docs in memory. */
  get size(): number {
    return this.docs.size;
  }

  /** The loaded doc, if any (does not load). */
  peek(tenant: string, docId: string): LoadedDoc | undefined {
    return this.docs.get(LoadedDoc.key(tenant, docId));
  }

  /** A load or unload in progress for the doc, if any. */
  pending(tenant: string, docId: string): Promise<unknown> | undefined {
    const key = LoadedDoc.key(tenant, docId);
    return this.loading.get(key) ?? this.unloading.get(key);
  }

  /**
   * The doc, loaded if needed. Returns the doc synchronously when it is in memory (so callers
   * handle messages in arrival order), a promise otherwise; all waiters of one load resume in
   * the order they asked.
   */
  acquire(
    tenant: string,
    docId: string,
    parsed: ParsedDocId,
    shard: number,
    token: number,
  ): LoadedDoc | Promise<LoadedDoc> {
    const key = LoadedDoc.key(tenant, docId);
    const doc = this.docs.get(key);
    if (doc && doc.token === token && !doc.broken) {
      this.touch(doc);
      return doc;
    }
    if (doc) this.drop(doc);
    let p = this.loading.get(key);
    if (!p) {
      p = this.load(tenant, docId, parsed, shard, token).finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  /** Marks use (LRU order). */
  touch(doc: LoadedDoc): void {
    doc.lastUsed = Date.now();
    if (this.docs.get(doc.key) === doc) {
      this.docs.delete(doc.key);
      this.docs.set(doc.key, doc);
    }
  }

  /** Removes a doc at once without persisting anything (lease lost, persist failed). */
  drop(doc: LoadedDoc): void {
    doc.broken = true;
    if (this.docs.get(doc.key) === doc) {
      this.docs.delete(doc.key);
      this.opts.metrics?.docs.unloads.inc();
      this.opts.metrics?.docs.loaded.set(this.docs.size);
    }
    void doc.outputs.finally(() => doc.sync.destroy());
  }

  /**
   * Drops every loaded doc of a deleted workspace at once (nothing persisted; appends still queued
   * are refused by the database guard) and discards loads in progress; forgets the cached
   * directory answer. Returns how many docs were dropped.
   */
  dropWorkspace(tenant: string, workspace: string): number {
    const key = tenantKey(tenant, workspace);
    this.workspaceEpochs.set(key, (this.workspaceEpochs.get(key) ?? 0) + 1);
    if (this.workspaceEpochs.size > 10000) this.workspaceEpochs.clear();
    this.opts.directory.forget(tenant, workspace);
    let dropped = 0;
    for (const doc of [...this.docs.values()]) {
      if (doc.tenant === tenant && doc.parsed.workspaceId === workspace) {
        this.drop(doc);
        dropped++;
      }
    }
    return dropped;
  }

  /** Drops every doc of `shard` at once (its lease is lost). */
  dropShard(shard: number): void {
    for (const doc of [...this.docs.values()]) if (doc.shard === shard) this.drop(doc);
  }

  /** Unloads every doc of `shard` gracefully (it is being handed over). */
  async releaseShard(shard: number): Promise<void> {
    const docs = [...this.docs.values()].filter((d) => d.shard === shard);
    await Promise.all(docs.map((d) => this.unload(d, 'release')));
    await Promise.allSettled([...this.loading.values()]);
    for (const doc of [...this.docs.values()]) if (doc.shard === shard) await this.unload(doc, 'release');
  }

  /** Unloads docs idle for longer than `idleMs`. */
  async sweepIdle(now = Date.now()): Promise<void> {
    const idle: LoadedDoc[] = [];
    for (const doc of this.docs.values()) {
      if (now - doc.lastUsed > this.opts.idleMs && doc.inflight === 0) idle.push(doc);
    }
    await Promise.all(idle.map((d) => this.unload(d, 'idle')));
  }

  /** Unloads everything gracefully (shutdown). */
  async unloadAll(): Promise<void> {
    await Promise.allSettled([...this.loading.values()]);
    await Promise.all([...this.docs.values()].map((d) => this.unload(d, 'shutdown')));
    await Promise.allSettled([...this.unloading.values()]);
  }

  /** Every loaded doc (for stats and tests). */
  loaded(): LoadedDoc[] {
    return [...this.docs.values()];
  }

  /** Gracefully unloads one doc: waits for its outputs, then requests compaction if its log grew. */
  unload(doc: LoadedDoc, reason: 'idle' | 'lru' | 'release' | 'shutdown'): Promise<void> {
    const key = doc.key;
    if (this.docs.get(key) !== doc) return this.unloading.get(key) ?? Promise.resolve();
    this.docs.delete(key);
    this.opts.metrics?.docs.unloads.inc();
    this.opts.metrics?.docs.loaded.set(this.docs.size);
    const p = (async () => {
      let tail: Promise<void>;
      do {
        tail = doc.outputs;
        await tail;
      } while (tail !== doc.outputs);
      if (!doc.broken && doc.storedUpdates > this.opts.compactKeepUpdates) {
        this.opts.compaction.request(doc.tenant, doc.docId, 'unload');
      }
      doc.sync.destroy();
      this.opts.logger.debug({ tenant: doc.tenant, docId: doc.docId, reason }, 'doc unloaded');
    })().finally(() => {
      if (this.unloading.get(key) === p) this.unloading.delete(key);
    });
    this.unloading.set(key, p);
    return p;
  }

  /** Records `n` persisted updates; requests a compaction past the threshold. */
  persisted(doc: LoadedDoc, n: number): void {
    doc.storedUpdates += n;
    if (doc.storedUpdates >= this.opts.compactionThreshold) {
      this.opts.compaction.request(doc.tenant, doc.docId, 'threshold');
      doc.storedUpdates = this.opts.compactKeepUpdates;
    }
  }

  private async load(
    tenant: string,
    docId: string,
    parsed: ParsedDocId,
    shard: number,
    token: number,
  ): Promise<LoadedDoc> {
    const key = LoadedDoc.key(tenant, docId);
    await this.unloading.get(key);
    await this.opts.compaction.idle(tenant, docId);
    const epochKey = tenantKey(tenant, parsed.workspaceId);
    const epoch = this.workspaceEpochs.get(epochKey) ?? 0;
    const generation = await this.opts.directory.generation(tenant, parsed.workspaceId);
    if (generation === null) {
      throw new WorkspaceNotFoundError(`workspace ${parsed.workspaceId} does not exist`);
    }
    const started = process.hrtime.bigint();
    const storage = this.opts.storage.forTenant(tenant);
    // getStateAt(∞) = snapshot + every update, read in ONE repeatable-read transaction: a
    // concurrent compaction (history worker) can never make the load miss folded updates.
    const [state, count] = await Promise.all([
      storage.getStateAt(docId, Number.MAX_SAFE_INTEGER),
      storage.getUpdateCount(docId),
    ]);
    if (!this.opts.isServing(shard, token))
      throw new ShardNotServedError(`shard ${shard} is no longer served`);
    if ((this.workspaceEpochs.get(epochKey) ?? 0) !== epoch)
      throw new WorkspaceNotFoundError(`workspace ${parsed.workspaceId} was deleted`);
    const doc = new LoadedDoc(tenant, docId, parsed, shard, token, generation, state, count, (err) => {
      this.opts.metrics?.docs.outputFailures.inc();
      this.opts.logger.error(
        { tenant, docId, err: err instanceof Error ? err.message : String(err) },
        'publishing a doc output failed',
      );
    });
    if (doc.droppedPending) {
      // alert: the stored state held structs/deletes that can never integrate (docs/limits.md)
      this.opts.metrics?.docs.pendingDropped.inc({ reason: 'load' });
      this.opts.logger.error(
        { tenant, docId, ...doc.droppedPending },
        'stored document state had pending (unintegrable) structs or deletes: dropped',
      );
    }
    this.docs.set(key, doc);
    this.opts.metrics?.docs.loads.inc();
    this.opts.metrics?.docs.loadSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    this.opts.metrics?.docs.loaded.set(this.docs.size);
    this.evictOverflow(doc);
    if (count >= this.opts.compactionThreshold) {
      this.opts.compaction.request(tenant, docId, 'threshold');
      doc.storedUpdates = this.opts.compactKeepUpdates;
    }
    return doc;
  }

  private evictOverflow(keep: LoadedDoc): void {
    if (this.docs.size <= this.opts.maxLoadedDocs) return;
    for (const doc of [...this.docs.values()]) {
      if (this.docs.size <= this.opts.maxLoadedDocs) break;
      if (doc !== keep && doc.inflight === 0) void this.unload(doc, 'lru');
    }
  }
}
