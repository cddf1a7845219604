/**
 * The gateway's side of the Redis bus (`@diaryx-sync/bus`): publishes envelopes to shard inboxes,
 * listens on its own reply channel and on the shard-events channel, and keeps reference-counted
 * subscriptions to the doc and workspace channels its sockets use. Over `BusPubSub`: classic
 * pub/sub on one Redis or Sentinel, sharded pub/sub on Redis Cluster (docs/redis.md).
 */
import {
  BusPubSub,
  type BroadcastEnvelope,
  decodeEnvelope,
  docChannel,
  encodeEnvelope,
  gatewayChannel,
  type Envelope,
  type InboxEnvelope,
  PayloadStore,
  type ReplyChannelEnvelope,
  type ReplyEnvelope,
  shardEventsChannel,
  shardInboxChannel,
  shardOf,
  type ShardAcquiredEnvelope,
  type ShareRevokedEnvelope,
  workspaceChannel,
  workspaceDeletionsChannel,
  type WorkspaceDeletedEnvelope,
  type WorkspaceEndedEnvelope,
  type WorkspaceEventEnvelope,
} from '@diaryx-sync/bus';
import type { Logger } from '@diaryx-sync/runtime';
import type { Cluster, Redis } from 'ioredis';

/** A reply-channel envelope whose payloads are all bytes (references resolved). */
export type DeliveredReplyChannelEnvelope =
  | Exclude<ReplyChannelEnvelope, ReplyEnvelope>
  | (Omit<ReplyEnvelope, 'payloads'> & { payloads: Uint8Array[] });

/** What the link delivers to the gateway. */
export interface ClusterLinkHandlers {
  onReplyChannel(env: DeliveredReplyChannelEnvelope): void;
  onBroadcast(env: BroadcastEnvelope): void;
  onWorkspaceEvent(env: WorkspaceEventEnvelope): void;
  onShardAcquired(env: ShardAcquiredEnvelope): void;
  /** A workspace was deleted (any gateway): close local connections to its docs. */
  onWorkspaceDeleted(env: WorkspaceDeletedEnvelope): void;
  /** A share link was revoked (any gateway): close local connections that joined with it. */
  onShareRevoked(env: ShareRevokedEnvelope): void;
  /** A shard owner dropped a deleted workspace's docs (answer to this gateway's deletion). */
  onWorkspaceEnded(env: WorkspaceEndedEnvelope): void;
  /**
   * The subscriptions were re-established after a Redis connection loss, failover or slot move:
   * broadcasts of that window may be lost, every doc needs a full sync round.
   */
  onResubscribed(): void;
}

/** Options of {@link ClusterLink}. */
export interface ClusterLinkOptions {
  /** Command connection (publishes); duplicated for the subscriber connection. */
  redis: Redis | Cluster;
  prefix: string;
  shardCount: number;
  gatewayId: string;
  logger: Logger;
  handlers: ClusterLinkHandlers;
}

/** See module doc. */
export class ClusterLink {
  private readonly bus: BusPubSub;
  /** Subscribed channel → reference count. */
  private readonly refs = new Map<string, number>();
  private readonly subscribing = new Map<string, Promise<unknown>>();
  private readonly payloads: PayloadStore;
  /**
   * Envelopes waiting, in arrival order, while a reply's stored payload is fetched (`null`: none
   * is): everything after it waits too, so delivery order stays the order Redis gave.
   */
  private backlog: Envelope[] | null = null;

  constructor(private readonly opts: ClusterLinkOptions) {
    this.payloads = new PayloadStore({ redis: opts.redis, prefix: opts.prefix });
    this.bus = new BusPubSub({
      redis: opts.redis,
      onMessage: (channel, message) => this.dispatch(channel, message),
      onResubscribed: () => {
        opts.logger.warn('redis subscriptions re-established: resyncing every doc');
        opts.handlers.onResubscribed();
      },
      onError: (err) => opts.logger.warn({ err: err.message }, 'redis subscriber error'),
    });
  }

  /** SHARD_COUNT. */
  get shardCount(): number {
    return this.opts.shardCount;
  }

  /** Subscribes to the gateway's reply channel, the shard-events and workspace-deletions channels. */
  async start(): Promise<void> {
    await this.bus.subscribe(
      gatewayChannel(this.opts.prefix, this.opts.gatewayId),
      shardEventsChannel(this.opts.prefix),
      workspaceDeletionsChannel(this.opts.prefix),
    );
  }

  /** Announces a deleted workspace to every gateway (this one included). */
  async publishWorkspaceDeleted(env: WorkspaceDeletedEnvelope): Promise<void> {
    const bytes = encodeEnvelope(env);
    await this.bus.publish(
      workspaceDeletionsChannel(this.opts.prefix),
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    );
  }

  /** Announces a revoked share link to every gateway (this one included). */
  async publishShareRevoked(env: ShareRevokedEnvelope): Promise<void> {
    const bytes = encodeEnvelope(env);
    await this.bus.publish(
      workspaceDeletionsChannel(this.opts.prefix),
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    );
  }

  /** The shard of a tenant's doc. */
  shardOf(tenant: string, docId: string): number {
    return shardOf(tenant, docId, this.opts.shardCount);
  }

  /** Encodes an inbox envelope once; `publishEncoded` sends (and re-sends) the bytes. */
  encode(env: InboxEnvelope): Buffer {
    const bytes = encodeEnvelope(env);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /**
   * Publishes encoded envelope bytes to `shard`'s inbox. Resolves to the number of listeners
   * (0 = no owner is subscribed right now), or 0 when Redis failed.
   */
  async publishEncoded(shard: number, bytes: Buffer): Promise<number> {
    try {
      return await this.bus.publish(shardInboxChannel(this.opts.prefix, shard), bytes);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message, shard }, 'publish to shard inbox failed');
      return 0;
    }
  }

  /** Fire-and-forget publish of an envelope to the inbox of its doc's shard. */
  publish(env: InboxEnvelope): void {
    void this.publishEncoded(this.shardOf(env.tenant, env.docId), this.encode(env));
  }

  /** Starts (or shares) the subscription to a doc's broadcast channel; resolves once active. */
  retainDoc(tenant: string, docId: string): Promise<void> {
    return this.retain(docChannel(this.opts.prefix, tenant, docId));
  }

  /** Drops one reference to a doc channel; unsubscribes at zero. */
  releaseDoc(tenant: string, docId: string): void {
    this.release(docChannel(this.opts.prefix, tenant, docId));
  }

  /** Starts (or shares) the subscription to a workspace's event channel. */
  retainWorkspace(tenant: string, workspace: string): Promise<void> {
    return this.retain(workspaceChannel(this.opts.prefix, tenant, workspace));
  }

  /** Drops one reference to a workspace channel. */
  releaseWorkspace(tenant: string, workspace: string): void {
    this.release(workspaceChannel(this.opts.prefix, tenant, workspace));
  }

  /** Number of doc/workspace channels subscribed. */
  get channelCount(): number {
    return this.refs.size;
  }

  /** Closes the subscriber connection. */
  async close(): Promise<void> {
    await this.bus.close();
  }

  private async retain(channel: string): Promise<void> {
    const n = this.refs.get(channel) ?? 0;
    this.refs.set(channel, n + 1);
    if (n === 0) {
      const p = this.bus.subscribe(channel);
      this.subscribing.set(channel, p);
      try {
        await p;
      } finally {
        if (this.subscribing.get(channel) === p) this.subscribing.delete(channel);
      }
      return;
    }
    await this.subscribing.get(channel);
  }

  private release(channel: string): void {
    const n = (this.refs.get(channel) ?? 0) - 1;
    if (n > 0) {
      this.refs.set(channel, n);
      return;
    }
    this.refs.delete(channel);
    void this.bus.unsubscribe(channel);
  }

  private dispatch(channel: string, message: Buffer): void {
    let env;
    try {
      env = decodeEnvelope(message);
    } catch (err) {
      this.opts.logger.warn({ channel, err: (err as Error).message }, 'dropping malformed envelope');
      return;
    }
    if (this.backlog) this.backlog.push(env);
    else this.deliverInOrder([env]);
  }

  /** Delivers `queue` in order; stops at a reply with stored payloads and goes on once fetched. */
  private deliverInOrder(queue: Envelope[]): void {
    for (let env = queue.shift(); env; env = queue.shift()) {
      if (env.type === 'reply' && !PayloadStore.isResolved(env.payloads)) {
        this.backlog = queue;
        const reply = env;
        void this.payloads.resolve(reply.payloads).then(
          (payloads) => this.deliverResolved(reply, payloads),
          (err: Error) => {
            this.opts.logger.warn({ err: err.message }, 'fetching a stored reply payload failed');
            this.deliverResolved(reply, null);
          },
        );
        return;
      }
      this.deliver(env);
    }
    this.backlog = null;
  }

  private deliverResolved(reply: ReplyEnvelope, payloads: Uint8Array[] | null): void {
    // A payload that expired or could not be fetched: the gateway re-sends the frame soon.
    this.deliver(
      payloads
        ? { ...reply, payloads }
        : {
            type: 'error',
            connId: reply.connId,
            docId: reply.docId,
            msgId: reply.msgId,
            code: 'unavailable',
            message: 'reply payload expired',
          },
    );
    this.deliverInOrder(this.backlog ?? []);
  }

  private deliver(env: Envelope | DeliveredReplyChannelEnvelope): void {
    const h = this.opts.handlers;
    try {
      switch (env.type) {
        case 'reply':
          if (!PayloadStore.isResolved(env.payloads)) return; // never: deliverInOrder resolved them
          return h.onReplyChannel({ ...env, payloads: env.payloads });
        case 'saved':
        case 'error':
        case 'applied':
          return h.onReplyChannel(env);
        case 'broadcast':
          return h.onBroadcast(env);
        case 'workspace_event':
          return h.onWorkspaceEvent(env);
        case 'shard_acquired':
          return h.onShardAcquired(env);
        case 'workspace_deleted':
          return h.onWorkspaceDeleted(env);
        case 'workspace_ended':
          return h.onWorkspaceEnded(env);
        case 'share_revoked':
          return h.onShareRevoked(env);
        default:
          return; // inbox envelopes are not for gateways
      }
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).stack, type: env.type }, 'envelope handler failed');
    }
  }
}
