/**
 * A doc-service instance: owns shards by lease, serves their inbox envelopes (see the message
 * flow in `@diaryx-sync/bus` `envelope.ts`), holds their docs in memory, persists every change
 * with group commit BEFORE acknowledging and broadcasting it, and tracks workspace presence.
 *
 * Per document, messages are handled in arrival order and their outputs (reply/ack, broadcasts,
 * `saved`, `applied`) are published in the same order, each after its own persistence; so a
 * `save` is answered only after everything earlier on that doc is durable.
 */
import { randomUUID } from 'node:crypto';
import {
  BusPubSub,
  docChannel,
  decodeEnvelopeOf,
  encodeEnvelope,
  EnvelopeDecodeError,
  gatewayChannel,
  shardEventsChannel,
  shardInboxChannel,
  shardOf,
  startHeartbeat,
  type ApplyEnvelope,
  type Envelope,
  type FocusEnvelope,
  type FrameEnvelope,
  type HeartbeatHandle,
  type InboxEnvelope,
  type LeaveEnvelope,
  type DisconnectEnvelope,
  type SaveEnvelope,
  type WorkspaceDeletedEnvelope,
  connectionField,
  isInstanceAlive,
  parseConnectionField,
  PayloadStore,
} from '@diaryx-sync/bus';
import { type UpdateMeta } from '@diaryx-sync/crdt';
import {
  CRDT_MIGRATIONS,
  CRDT_MIGRATIONS_TABLE,
  PostgresStorage,
  prepareSchema,
  raiseShardFence,
} from '@diaryx-sync/crdt/postgres';
import { isDocId, parseDocId, workspaceDocId, type ParsedDocId } from '@diaryx-sync/crdt';
import {
  observeStageSince,
  type DiaryxMetrics,
  type Logger,
  type RedisClient,
  type RedisTopology,
} from '@diaryx-sync/runtime';
import type { Pool } from 'pg';
import { DOC_SERVICE_DEFAULTS } from './config';
import { BadPayloadError, type SyncResult } from './docs/doc-sync';
import { DocRegistry, ShardNotServedError, WorkspaceNotFoundError } from './docs/doc-registry';
import { LoadedDoc } from './docs/loaded-doc';
import { InlineCompactionScheduler, type CompactionScheduler } from './persistence/compaction';
import { FencedError, GroupCommitter, WorkspaceDeletedError } from './persistence/group-commit';
import { PgWorkspaceDirectory, UNGUARDED, type WorkspaceDirectory } from './persistence/workspace-directory';
import { WorkspaceToucher, type TouchWorkspace } from './persistence/workspace-touch';
import { FileEventCollector, type EnqueueFileEvents } from './persistence/file-event-collector';
import { TenantFairQueue } from './inbox/tenant-fair-queue';
import { PresenceTracker, type WorkspacePresence } from './presence/presence-tracker';
import { ShardLeaseManager } from './shards/shard-leases';

/** Options of {@link DocService}. */
export interface DocServiceOptions {
  /** Command/publish connection (the service duplicates it for its subscriber). Not closed by the service. */
  redis: RedisClient;
  /** PostgreSQL pool (not closed by the service). */
  pool: Pool;
  /** REDIS_PREFIX. */
  prefix: string;
  /** SHARD_COUNT; must be the same on every gateway and doc service. */
  shardCount: number;
  logger: Logger;
  /** Default: a random id. */
  instanceId?: string;
  metrics?: DiaryxMetrics;
  /**
   * Schema step at start-up: `migrate: true` applies the crdt migrations (default), `false` only
   * checks that the `migrate` command applied them (MIGRATE_ON_START, deploy/README.md "Upgrade").
   */
  schema?: { migrate: boolean; lockTimeoutMs?: number };
  /** Lease TTL (default 1200 ms, docs/fencing.md). */
  leaseTtlMs?: number;
  /** Lease renew/rebalance period (default 250 ms). */
  leaseRenewMs?: number;
  /**
   * Renew leases on a worker thread connected to this Redis (docs/fencing.md "Renewal and
   * overload"); default: on a main-thread timer.
   */
  leaseRenewalRedis?: RedisTopology;
  /** Most docs in memory (default 5000). */
  maxLoadedDocs?: number;
  /** Unload docs without messages for this long (default 120000 ms). */
  docIdleMs?: number;
  /** Idle/presence sweep period (default 5000 ms). */
  sweepIntervalMs?: number;
  /** Request compaction once a doc's log has this many updates (default 500). */
  compactionThreshold?: number;
  /** Updates kept in the log by compaction (default 100). */
  compactKeepUpdates?: number;
  /** Default: compaction inline in this process. */
  compaction?: CompactionScheduler;
  /** Default: the gateway's `workspaces` table. */
  workspaceDirectory?: WorkspaceDirectory;
  /** Write the cluster-contract heartbeat (default true). */
  heartbeat?: boolean;
  /** Presence entries of dead gateways are swept after this grace (default 10000 ms). */
  presenceGraceMs?: number;
  /**
   * Marks a workspace as changed for the history worker's quiet-period commits
   * (`HistoryQueues#touchWorkspace`); throttled per workspace. Default: none.
   */
  touchWorkspace?: TouchWorkspace;
  /**
   * Queues the file changes of persisted updates for change webhooks, debounced per file
   * (`HistoryQueues#enqueueFileEvents`, docs/protocol.md#webhooks). Default: none.
   */
  fileEvents?: EnqueueFileEvents;
  /** Debounce window of the file events (default 2000 ms, `WEBHOOK_DEBOUNCE_MS`). */
  fileEventDebounceMs?: number;
  /** CPU budget of one tenant per turn of the fair inbox queue, ms (default 5, docs/limits.md). */
  inboxSliceMs?: number;
  /** Inbox envelopes waiting per tenant before new ones are refused (default 10000). */
  maxQueuedPerTenant?: number;
}

/** Why pending state was dropped without refusing the frame (docs/limits.md). */
const NOT_REFUSED_DROP =
  'too old, or over the bound while waiting for frames of a known writer (left unacknowledged)';

/** An inbox envelope waiting for its tenant's turn. */
interface QueuedEnvelope {
  env: InboxEnvelope | WorkspaceDeletedEnvelope;
  inboxShard: number;
}

/** Counters exposed for tests and the heartbeat. */
export interface DocServiceStats {
  shards: number[];
  docsLoaded: number;
  pendingAppends: number;
}

/** See module doc. */
export class DocService {
  readonly instanceId: string;
  protected readonly leases: ShardLeaseManager;
  protected readonly registry: DocRegistry;
  protected readonly committer: GroupCommitter;
  private readonly payloads: PayloadStore;
  readonly presence: PresenceTracker;
  private readonly storage: PostgresStorage;
  private readonly compaction: CompactionScheduler;
  private readonly toucher: WorkspaceToucher | undefined;
  private readonly fileEvents: FileEventCollector | undefined;
  private readonly log: Logger;
  /** Inbox subscriptions (sharded pub/sub on Redis Cluster, docs/redis.md). */
  protected bus: BusPubSub | undefined;
  /** Subscribed inbox channel → shard. */
  protected readonly inboxes = new Map<string, number>();
  /** Inbox envelopes by tenant, served round-robin (docs/limits.md, "Fair share per tenant"). */
  private readonly inbox: TenantFairQueue<QueuedEnvelope>;
  /** `${docKey}\0${connKey}` of connections whose update failed to persist (their next save fails). */
  private readonly failedWrites = new Set<string>();
  protected heartbeat: HeartbeatHandle | undefined;
  protected sweepTimer: NodeJS.Timeout | undefined;
  private workspacesCache: WorkspacePresence[] = [];
  protected accepting = false;
  /** Set once the first lease round is done (readiness). */
  private serving = false;
  protected started = false;

  constructor(private readonly opts: DocServiceOptions) {
    this.instanceId = opts.instanceId ?? `ds-${randomUUID()}`;
    this.log = opts.logger.child({ instance: this.instanceId });
    this.storage = new PostgresStorage({ pool: opts.pool, tenant: '_' });
    this.compaction =
      opts.compaction ??
      new InlineCompactionScheduler({
        storage: this.storage,
        keepUpdates: opts.compactKeepUpdates ?? DOC_SERVICE_DEFAULTS.compactKeepUpdates,
        logger: this.log,
      });
    this.toucher = opts.touchWorkspace ? new WorkspaceToucher(opts.touchWorkspace, this.log) : undefined;
    this.fileEvents = opts.fileEvents
      ? new FileEventCollector(opts.fileEvents, this.log, opts.fileEventDebounceMs)
      : undefined;
    this.leases = new ShardLeaseManager({
      redis: opts.redis,
      prefix: opts.prefix,
      shardCount: opts.shardCount,
      instanceId: this.instanceId,
      logger: this.log,
      ttlMs: opts.leaseTtlMs,
      renewMs: opts.leaseRenewMs,
      renewalThread: opts.leaseRenewalRedis ? { redis: opts.leaseRenewalRedis } : undefined,
      raiseFence: (shard, redisToken) => raiseShardFence(opts.pool, shard, redisToken, this.instanceId),
      handlers: {
        onAcquired: (shard, token) => this.onShardAcquired(shard, token),
        onReleasing: (shard) => this.onShardReleasing(shard),
        onLost: (shard) => this.onShardLost(shard),
      },
      onEvent: (event) => {
        opts.metrics?.shards.rebalances.inc({ event });
        opts.metrics?.shards.owned.set(this.leases.ownedShards().length);
      },
    });
    this.payloads = new PayloadStore({ redis: opts.redis, prefix: opts.prefix });
    this.committer = new GroupCommitter({
      write: (tenant, entries) => this.storage.forTenant(tenant).batchAppendUpdates(entries),
      fence: (shards, tokens) => this.leases.checkFence(shards, tokens),
      onBatch: (size, seconds) => {
        opts.metrics?.postgres.appendBatchSize.observe(size);
        opts.metrics?.postgres.appendSeconds.observe(seconds);
      },
      onFailure: (err, size) => {
        opts.metrics?.postgres.appendFailures.inc();
        this.log.error({ err: err.message, size }, 'update batch could not be persisted');
      },
      onStale: (shards) => this.leases.giveUp(shards, 'database fence refused a write (newer owner)'),
    });
    this.registry = new DocRegistry({
      storage: this.storage,
      directory: opts.workspaceDirectory ?? new PgWorkspaceDirectory(opts.pool, this.log),
      compaction: this.compaction,
      compactionThreshold: opts.compactionThreshold ?? DOC_SERVICE_DEFAULTS.compactionThreshold,
      compactKeepUpdates: opts.compactKeepUpdates ?? DOC_SERVICE_DEFAULTS.compactKeepUpdates,
      maxLoadedDocs: opts.maxLoadedDocs ?? DOC_SERVICE_DEFAULTS.maxLoadedDocs,
      idleMs: opts.docIdleMs ?? DOC_SERVICE_DEFAULTS.docIdleMs,
      isServing: (shard, token) => this.leases.serves(shard) && this.leases.tokenOf(shard) === token,
      logger: this.log,
      metrics: opts.metrics,
    });
    this.inbox = new TenantFairQueue<QueuedEnvelope>({
      run: (item) => this.dispatch(item),
      sliceMs: opts.inboxSliceMs,
      maxQueued: opts.maxQueuedPerTenant,
      onRefused: ({ env }) => {
        opts.metrics?.docs.tenantInboxDropped.inc();
        if (env.type !== 'workspace_deleted') this.replyError(env, 'unavailable', 'tenant inbox full; retry');
      },
      onDepth: (tenant, depth) => {
        if (depth === 0) opts.metrics?.docs.tenantInboxDepth.remove({ tenant });
        else opts.metrics?.docs.tenantInboxDepth.set({ tenant }, depth);
      },
      onError: (err) => this.log.error({ err: (err as Error).message }, 'inbox envelope failed'),
    });
    this.presence = new PresenceTracker({
      redis: opts.redis,
      prefix: opts.prefix,
      logger: this.log,
      sweepGraceMs: opts.presenceGraceMs,
      onFocusListTruncated: () => opts.metrics?.docs.focusListTruncated.inc(),
    });
  }

  /** Runs (or checks) the crdt migrations, subscribes, acquires shards and starts heartbeats and sweeps. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await prepareSchema(
      this.opts.pool,
      [{ table: CRDT_MIGRATIONS_TABLE, migrations: CRDT_MIGRATIONS }],
      this.opts.schema ?? { migrate: true },
    );
    const bus = new BusPubSub({
      redis: this.opts.redis,
      onMessage: (channel, message) => this.onMessage(channel, message),
      onResubscribed: () => this.onInboxesResubscribed(),
      onError: (err) => this.log.warn({ err: err.message }, 'redis subscriber error'),
    });
    this.bus = bus;
    await bus.connected();
    this.accepting = true;
    await this.leases.start();
    this.serving = true;
    if (this.opts.heartbeat ?? true) {
      this.heartbeat = startHeartbeat({
        redis: this.opts.redis,
        prefix: this.opts.prefix,
        kind: 'doc-service',
        id: this.instanceId,
        extra: () => ({
          shards: this.leases.ownedShards(),
          docs_loaded: this.registry.size,
          workspaces: this.workspacesCache,
        }),
        onError: (err) => this.log.warn({ err: err.message }, 'heartbeat failed'),
      });
    }
    this.scheduleSweep();
    this.log.info({ shards: this.leases.ownedShards().length }, 'doc service started');
  }

  /** SIGTERM: stop taking frames, flush everything, release the leases, stop. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.accepting = false;
    this.serving = false;
    this.inbox.clear();
    clearTimeout(this.sweepTimer);
    await this.leases.stop();
    await this.registry.unloadAll();
    await this.committer.drain();
    await this.presence.drain();
    await this.toucher?.flush();
    await this.fileEvents?.flush();
    await this.compaction.close();
    await this.heartbeat?.stop();
    await this.bus?.close();
    this.log.info('doc service stopped');
  }

  /** Current counters. */
  stats(): DocServiceStats {
    return {
      shards: this.leases.ownedShards(),
      docsLoaded: this.registry.size,
      pendingAppends: this.committer.pending,
    };
  }

  /** True once started, after the first lease round, while the subscriber is connected (readiness). */
  get ready(): boolean {
    return this.accepting && this.serving && this.bus?.ready === true;
  }

  // ---- shard lifecycle -------------------------------------------------------------------

  private async onShardAcquired(shard: number, token: number): Promise<void> {
    const channel = shardInboxChannel(this.opts.prefix, shard);
    this.inboxes.set(channel, shard);
    await this.bus!.subscribe(channel);
    this.publish(shardEventsChannel(this.opts.prefix), {
      type: 'shard_acquired',
      shard,
      instanceId: this.instanceId,
      token,
    });
  }

  /**
   * The inbox subscriptions came back after a Redis failover, slot move or reconnect: announce
   * the owned shards again so gateways re-send unacknowledged frames and resync those docs now.
   */
  private onInboxesResubscribed(): void {
    this.log.warn({ shards: this.leases.ownedShards().length }, 'inbox subscriptions re-established');
    for (const shard of this.leases.ownedShards()) {
      const token = this.leases.tokenOf(shard);
      if (token === undefined) continue;
      this.publish(shardEventsChannel(this.opts.prefix), {
        type: 'shard_acquired',
        shard,
        instanceId: this.instanceId,
        token,
      });
    }
  }

  private async onShardReleasing(shard: number): Promise<void> {
    const channel = shardInboxChannel(this.opts.prefix, shard);
    this.inboxes.delete(channel);
    await this.bus?.unsubscribe(channel);
    await this.registry.releaseShard(shard);
  }

  private onShardLost(shard: number): void {
    const channel = shardInboxChannel(this.opts.prefix, shard);
    this.inboxes.delete(channel);
    void this.bus?.unsubscribe(channel);
    this.registry.dropShard(shard);
  }

  // ---- dispatch ------------------------------------------------------------------------

  private onMessage(channel: string, message: Buffer): void {
    const inboxShard = this.inboxes.get(channel);
    if (inboxShard === undefined || !this.accepting) return;
    let decoded: InboxEnvelope | WorkspaceDeletedEnvelope;
    try {
      decoded = decodeEnvelopeOf(message, [
        'frame',
        'save',
        'leave',
        'disconnect',
        'focus',
        'apply',
        'workspace_deleted',
      ]);
    } catch (err) {
      if (err instanceof EnvelopeDecodeError) {
        this.log.warn({ err: err.message, channel }, 'dropping malformed inbox envelope');
        return;
      }
      throw err;
    }
    this.inbox.push(decoded.tenant, { env: decoded, inboxShard });
  }

  /** Handles one inbox envelope in its tenant's turn. */
  private dispatch({ env: decoded, inboxShard }: QueuedEnvelope): void {
    if (!this.accepting) return;
    if (decoded.type === 'workspace_deleted') return this.endWorkspace(decoded, inboxShard);
    const env = decoded;
    const shard = shardOf(env.tenant, env.docId, this.opts.shardCount);
    if (shard !== inboxShard) {
      this.log.warn(
        { docId: env.docId, shard, inboxShard },
        'envelope on the wrong shard inbox (SHARD_COUNT mismatch?)',
      );
      return;
    }
    const token = this.leases.tokenOf(shard);
    if (!this.leases.serves(shard) || token === undefined) return; // the gateway retries with the next owner
    // A loaded doc's id was validated and parsed when it was loaded.
    const loaded = this.registry.peek(env.tenant, env.docId);
    if (!loaded && !isDocId(env.docId)) {
      this.replyError(env, 'bad_payload', `invalid doc id ${JSON.stringify(env.docId.slice(0, 80))}`);
      return;
    }
    const parsed = loaded?.parsed ?? parseDocId(env.docId);
    try {
      switch (env.type) {
        case 'frame':
          return this.withDoc(env, parsed, shard, token, (doc) => this.handleFrame(doc, env));
        case 'apply':
          return this.withDoc(env, parsed, shard, token, (doc) => this.handleApply(doc, env));
        case 'save':
          return this.handleSave(env, shard, token);
        case 'leave':
        case 'disconnect':
          return this.handleLeave(env, parsed);
        case 'focus':
          return this.handleFocus(env, parsed);
      }
    } catch (err) {
      this.log.error(
        { err: (err as Error).message, type: env.type, docId: env.docId },
        'inbox envelope failed',
      );
      this.replyError(env, 'internal', 'internal error');
    }
  }

  /** Runs `fn` on the loaded doc, synchronously when it is in memory (keeps arrival order). */
  private withDoc(
    env: FrameEnvelope | ApplyEnvelope,
    parsed: ParsedDocId,
    shard: number,
    token: number,
    fn: (doc: LoadedDoc) => void,
  ): void {
    const docOrLoad = this.registry.acquire(env.tenant, env.docId, parsed, shard, token);
    if (!(docOrLoad instanceof Promise)) {
      this.fileEvents?.watch(docOrLoad);
      return fn(docOrLoad);
    }
    docOrLoad.then(
      (doc) => {
        if (doc.broken) return;
        this.registry.touch(doc);
        this.fileEvents?.watch(doc);
        fn(doc);
      },
      (err: Error) => {
        if (err instanceof WorkspaceNotFoundError) this.replyError(env, 'not_found', err.message);
        else if (err instanceof ShardNotServedError) return;
        else {
          this.log.error({ err: err.message, docId: env.docId }, 'doc load failed');
          this.replyError(env, 'unavailable', 'document temporarily unavailable');
        }
      },
    );
  }

  private handleFrame(doc: LoadedDoc, env: FrameEnvelope): void {
    const connKey = connectionField(env.gatewayId, env.connId);
    const isNewConnection = !doc.connections.has(connKey);
    // a connection new to this doc gets the current awareness states (taken before its own)
    const awarenessSnapshot = isNewConnection ? doc.sync.awarenessSnapshot() : null;
    let res: SyncResult;
    try {
      res = doc.sync.handle({ id: connKey, role: env.role }, env.payload);
    } catch (err) {
      if (!(err instanceof BadPayloadError)) throw err;
      doc.chain(() => this.replyError(env, 'bad_payload', err.message));
      return;
    }
    if (env.receivedAt !== undefined && this.opts.metrics)
      observeStageSince(this.opts.metrics, 'applied', env.receivedAt);
    if (res.persist.length > 0) this.opts.metrics?.docs.updatesApplied.inc(res.persist.length);
    if (isNewConnection) {
      doc.connections.add(connKey);
      if (doc.parsed.kind === 'workspace') {
        void this.presence.join(env.tenant, doc.parsed.workspaceId, env.gatewayId, env.connId);
      }
    }
    let syncComplete: number | null = null;
    if (doc.parsed.kind === 'workspace' && res.sawSyncStep1 && !doc.syncCompleted.has(connKey)) {
      doc.syncCompleted.add(connKey);
      syncComplete = doc.liveFileCount();
    }
    const payloads = awarenessSnapshot ? [...res.replies, awarenessSnapshot] : res.replies;
    const persisted = this.persist(doc, res.persist, {
      origin: `sync:${env.gatewayId}`,
      deviceId: env.connId,
      deviceName: env.deviceName ?? null,
      userId: env.userId ?? null,
    });
    const failKey = failedSaveKey(doc.key, connKey);
    doc.chain(async () => {
      if (persisted && !(await this.awaitPersist(doc, persisted, env, failKey))) return;
      if (persisted && env.receivedAt !== undefined && this.opts.metrics) {
        observeStageSince(this.opts.metrics, 'persisted', env.receivedAt);
      }
      this.broadcast(doc, res.broadcast, env.gatewayId, env.connId, env.receivedAt);
      if (res.droppedPending)
        this.notePendingDropped(
          doc,
          env,
          res.error ? 'refused' : 'stale',
          res.error?.message ?? NOT_REFUSED_DROP,
        );
      if (res.error) {
        // what did change is durable and broadcast; the rest of the payload was refused
        this.replyError(env, 'bad_payload', res.error.message);
        return;
      }
      this.publish(gatewayChannel(this.opts.prefix, env.gatewayId), {
        type: 'reply',
        connId: env.connId,
        docId: env.docId,
        msgId: env.msgId,
        // a big SyncStep2 goes by reference (a failed store: no reply, the gateway re-sends)
        payloads: await this.payloads.offload(env.tenant, payloads),
        readOnlyViolation: res.readOnlyViolation,
        // not durable while part of it waits as Yjs pending state: the gateway re-sends it
        ack: !res.pending,
        syncComplete,
      });
    });
  }

  private handleApply(doc: LoadedDoc, env: ApplyEnvelope): void {
    let out: ReturnType<LoadedDoc['sync']['applyServerUpdate']>;
    try {
      out = doc.sync.applyServerUpdate(env.update);
    } catch (err) {
      if (!(err instanceof BadPayloadError)) throw err;
      doc.chain(() => this.replyError(env, 'bad_payload', err.message));
      return;
    }
    const persisted = this.persist(doc, out.persist, { origin: env.origin });
    doc.chain(async () => {
      if (persisted && !(await this.awaitPersist(doc, persisted, env, null))) return;
      this.broadcast(doc, out.broadcast, '', '', undefined);
      if (out.droppedPending)
        this.notePendingDropped(
          doc,
          env,
          out.error ? 'refused' : 'stale',
          out.error?.message ?? NOT_REFUSED_DROP,
        );
      if (out.error) {
        this.replyError(env, 'bad_payload', out.error.message);
        return;
      }
      if (out.pending) {
        this.replyError(env, 'unavailable', 'update waits for missing dependencies; retry');
        return;
      }
      this.publish(gatewayChannel(this.opts.prefix, env.replyTo), {
        type: 'applied',
        msgId: env.msgId,
        docId: env.docId,
      });
    });
  }

  /** Alert: a doc's Yjs pending state was dropped instead of carried (docs/limits.md). */
  private notePendingDropped(
    doc: LoadedDoc,
    env: FrameEnvelope | ApplyEnvelope | null,
    reason: 'refused' | 'stale',
    why: string,
  ): void {
    this.opts.metrics?.docs.pendingDropped.inc({ reason });
    this.log.warn(
      {
        tenant: doc.tenant,
        docId: doc.docId,
        ...(env?.type === 'frame' ? { gatewayId: env.gatewayId, connId: env.connId } : {}),
        ...(env?.type === 'apply' ? { origin: env.origin } : {}),
        why,
      },
      'pending (unintegrable) Yjs state dropped',
    );
  }

  /**
   * A workspace was deleted (docs/workspace-deletion.md): drop its docs of `shard` (appends still
   * queued are refused by the database guard), forget its presence when its workspace doc lives
   * here, and tell the deleting gateway this shard is done.
   */
  private endWorkspace(env: WorkspaceDeletedEnvelope, shard: number): void {
    if (!this.leases.serves(shard)) return; // the gateway re-sends to the next owner
    const dropped = this.registry.dropWorkspace(env.tenant, env.workspace);
    if (shardOf(env.tenant, workspaceDocId(env.workspace), this.opts.shardCount) === shard) {
      this.opts.metrics?.docs.workspaceDeletions.inc();
      void this.presence.forgetWorkspace(env.tenant, env.workspace);
    }
    if (dropped > 0)
      this.log.info(
        { tenant: env.tenant, workspace: env.workspace, shard, dropped },
        'workspace deleted: docs dropped',
      );
    this.publish(gatewayChannel(this.opts.prefix, env.replyTo), {
      type: 'workspace_ended',
      msgId: env.msgId,
      shard,
    });
  }

  private handleSave(env: SaveEnvelope, shard: number, token: number): void {
    const failKey = failedSaveKey(
      LoadedDoc.key(env.tenant, env.docId),
      connectionField(env.gatewayId, env.connId),
    );
    const answer = () => {
      if (this.failedWrites.delete(failKey)) {
        this.replyError(
          env,
          'unavailable',
          'an earlier update was not persisted; re-send unacknowledged frames, then save again',
        );
      } else {
        this.publish(gatewayChannel(this.opts.prefix, env.gatewayId), {
          type: 'saved',
          connId: env.connId,
          docId: env.docId,
          msgId: env.msgId,
        });
      }
    };
    const doc = this.registry.peek(env.tenant, env.docId);
    if (doc && !doc.broken) {
      doc.chain(answer);
      return;
    }
    const pending = this.registry.pending(env.tenant, env.docId);
    if (pending) {
      // a load (or unload) is in progress: answer after it, in order with the loaded doc's outputs
      void pending.then(
        () => {
          const loaded = this.registry.peek(env.tenant, env.docId);
          if (loaded && !loaded.broken) loaded.chain(answer);
          else if (this.leases.serves(shard) && this.leases.tokenOf(shard) === token) answer();
        },
        () => {
          if (this.leases.serves(shard)) answer();
        },
      );
      return;
    }
    answer();
  }

  private handleLeave(env: LeaveEnvelope | DisconnectEnvelope, parsed: ParsedDocId): void {
    const doc = this.registry.peek(env.tenant, env.docId);
    const pending = doc ? undefined : this.registry.pending(env.tenant, env.docId);
    if (pending) {
      // frames of this connection may wait for the load: leave only after they were handled
      void pending.then(
        () => this.handleLeave(env, parsed),
        () => this.handleLeave(env, parsed),
      );
      return;
    }
    const connKey = connectionField(env.gatewayId, env.connId);
    if (doc) {
      doc.connections.delete(connKey);
      doc.syncCompleted.delete(connKey);
      const removal = doc.sync.removeConnection(connKey);
      if (removal) doc.chain(() => this.broadcast(doc, [removal], env.gatewayId, env.connId, undefined));
    }
    if (parsed.kind === 'workspace') {
      void this.presence.leave(env.tenant, parsed.workspaceId, env.gatewayId, env.connId);
    }
  }

  private handleFocus(env: FocusEnvelope, parsed: ParsedDocId): void {
    if (parsed.kind !== 'workspace') {
      this.log.warn({ docId: env.docId }, 'focus envelope must target the workspace doc');
      return;
    }
    void this.presence.setFocus(env.tenant, parsed.workspaceId, env.gatewayId, env.connId, env.files);
  }

  // ---- persistence -----------------------------------------------------------------------

  private persist(doc: LoadedDoc, updates: Uint8Array[], meta: UpdateMeta): Promise<void> | null {
    if (updates.length === 0) return null;
    return Promise.all(
      updates.map((data) =>
        this.committer.append({
          tenant: doc.tenant,
          doc: doc.docId,
          shard: doc.shard,
          token: doc.token,
          data,
          meta,
          ...(doc.generation !== UNGUARDED
            ? { workspace: { id: doc.parsed.workspaceId, generation: doc.generation } }
            : {}),
        }),
      ),
    ).then(() => {
      this.registry.persisted(doc, updates.length);
      this.toucher?.changed(doc.tenant, doc.parsed.workspaceId);
      this.fileEvents?.persisted(doc);
    });
  }

  /** Awaits a persist; on failure drops the doc and answers (or stays silent when fenced). True on success. */
  private async awaitPersist(
    doc: LoadedDoc,
    persisted: Promise<void>,
    env: FrameEnvelope | ApplyEnvelope,
    failKey: string | null,
  ): Promise<boolean> {
    try {
      await persisted;
      if (failKey) this.failedWrites.delete(failKey);
      return true;
    } catch (err) {
      this.registry.drop(doc);
      if (err instanceof FencedError) {
        this.log.warn(
          { docId: doc.docId, shard: doc.shard },
          'update not persisted: shard lease lost (fenced)',
        );
        return false;
      }
      if (failKey) this.failedWrites.add(failKey);
      if (err instanceof WorkspaceDeletedError) {
        // the gateway closes the connection with 4403; nothing of it is acknowledged
        this.replyError(env, 'not_found', 'workspace deleted');
        return false;
      }
      this.replyError(env, 'unavailable', 'update could not be persisted; retry');
      return false;
    }
  }

  // ---- output ----------------------------------------------------------------------------

  private broadcast(
    doc: LoadedDoc,
    messages: Uint8Array[],
    gatewayId: string,
    connId: string,
    receivedAt: number | undefined,
  ): void {
    const channel = docChannel(this.opts.prefix, doc.tenant, doc.docId);
    for (const payload of messages) {
      this.publish(channel, {
        type: 'broadcast',
        tenant: doc.tenant,
        docId: doc.docId,
        originGatewayId: gatewayId,
        originConnId: connId,
        payload,
        ...(receivedAt !== undefined ? { receivedAt } : {}),
      });
    }
  }

  private replyError(
    env: InboxEnvelope,
    code: 'bad_payload' | 'not_found' | 'unavailable' | 'internal',
    message: string,
  ): void {
    if (env.type === 'apply') {
      this.publish(gatewayChannel(this.opts.prefix, env.replyTo), {
        type: 'error',
        connId: '',
        docId: env.docId,
        msgId: env.msgId,
        code,
        message,
      });
    } else if (env.type === 'frame' || env.type === 'save') {
      this.publish(gatewayChannel(this.opts.prefix, env.gatewayId), {
        type: 'error',
        connId: env.connId,
        docId: env.docId,
        msgId: env.msgId,
        code,
        message,
      });
    } else {
      this.log.warn({ type: env.type, docId: env.docId, code, message }, 'inbox envelope rejected');
    }
  }

  private publish(channel: string, env: Envelope): void {
    const bytes = encodeEnvelope(env);
    const bus = this.bus;
    if (!bus) return this.log.warn({ channel, type: env.type }, 'publish before start: dropped');
    bus
      .publish(channel, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      .catch((err: Error) => this.log.warn({ err: err.message, channel }, 'publish failed'));
  }

  // ---- housekeeping ----------------------------------------------------------------------

  private scheduleSweep(): void {
    const every = this.opts.sweepIntervalMs ?? 5000;
    this.sweepTimer = setTimeout(() => {
      void this.sweep().finally(() => {
        if (this.started) this.scheduleSweep();
      });
    }, every);
    this.sweepTimer.unref();
  }

  /**
   * A crashed gateway never sends `disconnect`: remove its connections from the loaded docs
   * (their awareness states are removed for the others) once its heartbeat is gone.
   */
  private async sweepDeadGatewayConnections(): Promise<void> {
    const gateways = new Set<string>();
    for (const doc of this.registry.loaded())
      for (const c of doc.connections) gateways.add(parseConnectionField(c).gatewayId);
    const dead = new Set<string>();
    for (const g of gateways)
      if (!(await isInstanceAlive(this.opts.redis, this.opts.prefix, 'gateway', g))) dead.add(g);
    if (dead.size === 0) return;
    for (const doc of this.registry.loaded()) {
      for (const c of [...doc.connections]) {
        if (!dead.has(parseConnectionField(c).gatewayId)) continue;
        doc.connections.delete(c);
        doc.syncCompleted.delete(c);
        const removal = doc.sync.removeConnection(c);
        if (removal) doc.chain(() => this.broadcast(doc, [removal], '', '', undefined));
      }
    }
  }

  /** One housekeeping round: idle unloads, dead-gateway presence, heartbeat workspace list. */
  async sweep(): Promise<void> {
    const owns = (tenant: string, workspace: string) =>
      this.leases.serves(shardOf(tenant, workspaceDocId(workspace), this.opts.shardCount));
    try {
      for (const doc of this.registry.loaded())
        if (doc.sync.dropStalePending()) this.notePendingDropped(doc, null, 'stale', 'too old');
      await this.registry.sweepIdle();
      await this.sweepDeadGatewayConnections();
      await this.presence.sweep(owns);
      this.workspacesCache = await this.presence.workspaces(owns);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'sweep failed');
    }
  }
}

/** Key of a connection's failed persist on one doc (`LoadedDoc.key` + connection field). */
function failedSaveKey(docKey: string, connKey: string): string {
  return `${docKey}\u0000${connKey}`;
}
