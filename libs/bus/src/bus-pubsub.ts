/**
 * `BusPubSub`: publish and subscribe on the bus channels over any Redis topology
 * (docs/redis.md).
 *
 * - One node or Sentinel (an ioredis `Redis`): classic `PUBLISH`/`SUBSCRIBE`.
 * - Redis Cluster (an ioredis `Cluster`): sharded `SPUBLISH`/`SSUBSCRIBE` (Redis ≥ 7), so a
 *   message travels only to the master owning its channel's slot instead of every node. The
 *   subscriber is a duplicate of the cluster client with one sharded subscriber per master.
 *
 * Publishes go out on a connection of their own with ioredis auto-pipelining: every publish of one
 * event-loop turn (e.g. the broadcasts of one group-committed batch) is written to Redis in one
 * socket write instead of one write each (docs/benchmarks.md, profiles). One connection keeps
 * them in order.
 *
 * Subscriptions survive reconnects, master failovers and slot moves (ioredis re-subscribes);
 * because messages published in between are lost, {@link BusPubSubOptions.onResubscribed} is
 * called once the subscriptions are active again so the owner can repair what it may have
 * missed (the gateway runs a full SyncStep1 round on its docs).
 */
import { Cluster, type Redis } from 'ioredis';

/** Options of {@link BusPubSub}. */
export interface BusPubSubOptions {
  /** Command connection: publishes. Duplicated for the subscriber; not closed by {@link BusPubSub.close}. */
  redis: Redis | Cluster;
  /** Every message of a subscribed channel. */
  onMessage(channel: string, message: Buffer): void;
  /** Subscriptions were re-established after a connection loss or topology change. */
  onResubscribed?(): void;
  /** Subscriber connection errors (they reconnect by themselves). */
  onError?(err: Error): void;
}

/**
 * Publishes on a bus channel: `SPUBLISH` on Redis Cluster, `PUBLISH` otherwise (see module doc);
 * resolves to the number of subscribers that received it.
 */
export async function publishOnBus(
  redis: Redis | Cluster,
  channel: string,
  message: Buffer,
): Promise<number> {
  return Number(
    redis instanceof Cluster ? await redis.spublish(channel, message) : await redis.publish(channel, message),
  );
}

/** How long after the last topology signal the re-subscription is reported (ms). */
const SETTLE_MS = 500;

/** See module doc. */
export class BusPubSub {
  /** `true` on Redis Cluster: SPUBLISH/SSUBSCRIBE. */
  readonly sharded: boolean;
  private readonly sub: Redis | Cluster;
  /** Publisher connection (auto-pipelined), opened on the first publish. */
  private pub: Redis | Cluster | undefined;
  private readonly channels = new Set<string>();
  /** A connection loss / topology change was seen since the last `onResubscribed`. */
  private disrupted = false;
  private everReady = false;
  private settleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly opts: BusPubSubOptions) {
    this.sharded = opts.redis instanceof Cluster;
    const sub =
      opts.redis instanceof Cluster
        ? opts.redis.duplicate([], { shardedSubscribers: true })
        : opts.redis.duplicate();
    this.sub = sub;
    sub.on('error', (err: Error) => opts.onError?.(err));
    const event = this.sharded ? 'smessageBuffer' : 'messageBuffer';
    sub.on(event, (channel: Buffer, message: Buffer) => opts.onMessage(channel.toString(), message));
    const disrupted = () => {
      if (!this.everReady || this.closed) return;
      this.disrupted = true;
      this.settle();
    };
    const ready = () => {
      this.everReady = true;
      this.settle();
    };
    sub.on('ready', ready);
    if (sub instanceof Cluster) {
      for (const e of ['-node', '-subscriber', 'nodeError']) sub.on(e, disrupted);
      // ioredis resets its sharded subscribers only when the slot map changed (a failover, a slot
      // migration) or a subscriber failed: messages of moved slots may have been missed.
      sub.on('subscribersReady', () => {
        if (this.everReady && !this.closed) this.disrupted = true;
        this.settle();
      });
    } else {
      // ioredis re-sends the subscriptions before 'ready' on a reconnect
      sub.on('close', disrupted);
    }
  }

  /** Publishes `message`; resolves to the number of subscribers that received it. */
  publish(channel: string, message: Buffer): Promise<number> {
    return publishOnBus(this.publisher(), channel, message);
  }

  private publisher(): Redis | Cluster {
    if (this.pub) return this.pub;
    const { redis } = this.opts;
    const pub =
      redis instanceof Cluster
        ? redis.duplicate([], { enableAutoPipelining: true })
        : redis.duplicate({ enableAutoPipelining: true });
    pub.on('error', (err: Error) => this.opts.onError?.(err));
    this.pub = pub;
    return pub;
  }

  /** Subscribes to `channels`; resolves once the subscriptions are active. */
  async subscribe(...channels: string[]): Promise<void> {
    for (const c of channels) this.channels.add(c);
    if (!this.sharded) {
      await this.sub.subscribe(...channels);
      return;
    }
    // A sharded subscription is per slot: one SSUBSCRIBE per channel.
    await Promise.all(channels.map((c) => this.sub.ssubscribe(c)));
  }

  /** Unsubscribes from `channels` (best effort). */
  async unsubscribe(...channels: string[]): Promise<void> {
    for (const c of channels) this.channels.delete(c);
    if (!this.sharded) {
      await this.sub.unsubscribe(...channels).catch(() => undefined);
      return;
    }
    await Promise.all(channels.map((c) => this.sub.sunsubscribe(c).catch(() => undefined)));
  }

  /** Number of subscribed channels. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** True while the subscriber connection is usable. */
  get ready(): boolean {
    return this.sub.status === 'ready';
  }

  /** Resolves once the subscriber connection is up (a PING on one node). */
  async connected(): Promise<void> {
    if (this.sub instanceof Cluster) {
      if (this.sub.status !== 'ready') await new Promise((resolve) => this.sub.once('ready', resolve));
      return;
    }
    await this.sub.ping();
  }

  /** Closes the subscriber connection, and the publisher once its publishes are answered. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.settleTimer);
    this.sub.disconnect();
    const pub = this.pub;
    if (!pub) return;
    await pub.quit().catch(() => pub.disconnect());
  }

  /**
   * After a disruption, once the signals have been quiet for {@link SETTLE_MS} and the subscriber
   * is ready: re-issues every subscription (idempotent in Redis; covers a slot that moved to a
   * node without a subscriber yet) and reports `onResubscribed`. Retries until it succeeds.
   */
  private settle(): void {
    if (!this.disrupted || this.closed) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => {
      if (this.closed || !this.disrupted) return;
      if (this.sub.status !== 'ready') return this.settle();
      this.disrupted = false;
      const all = [...this.channels];
      const again = all.length === 0 ? Promise.resolve() : this.subscribe(...all);
      void again.then(
        () => {
          if (!this.closed) this.opts.onResubscribed?.();
        },
        (err: Error) => {
          this.opts.onError?.(err);
          this.disrupted = true;
          this.settle();
        },
      );
    }, SETTLE_MS);
    this.settleTimer.unref();
  }
}
