/**
 * Client updates a gateway has published to a shard inbox but that the owning shard has not yet
 * acknowledged (acknowledged = durable in PostgreSQL). Entries are re-sent after a timeout or
 * when the shard changes owner; an entry older than the give-up bound makes the gateway close
 * its client with 1013 (the client resyncs on reconnect). See issue 4 "Delivery guarantees".
 */

/** One unacknowledged update. */
export interface PendingUpdate<C> {
  /** Gateway-unique sequence number, echoed back in the shard's ack. */
  readonly seq: number;
  /** The connection that sent it. */
  readonly conn: C;
  readonly shard: number;
  /** Tenant-qualified key of the doc (`tenant\u0000docId`), used by save barriers. */
  readonly docKey: string;
  /** Sends (or re-sends) the update to the shard inbox. */
  readonly send: () => void;
  /** True when it carries document changes (or is a save barrier): drain waits for these. */
  readonly critical: boolean;
  readonly firstSentAt: number;
  lastSentAt: number;
}

/** What the tracker asks its owner to do when an update cannot be delivered. */
export interface PendingUpdatesEvents<C> {
  /** No owner acknowledged `update` within the give-up bound: close its connection (1013). */
  onGiveUp(conn: C): void;
}

/** Tracks unacknowledged updates, their retries, and save barriers waiting on them. */
export class PendingUpdates<C> {
  private nextSeq = 1;
  private readonly entries = new Map<number, PendingUpdate<C>>();
  private readonly barriers: { conn: C; docKey: string; upTo: number; resolve: () => void }[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private criticalCount = 0;

  constructor(
    private readonly retryMs: number,
    private readonly giveUpMs: number,
    private readonly events: PendingUpdatesEvents<C>,
    private readonly now: () => number = Date.now,
  ) {}

  /** Number of updates awaiting an ack. */
  get size(): number {
    return this.entries.size;
  }

  /** Allocates a sequence number for an update about to be sent. */
  allocateSeq(): number {
    return this.nextSeq++;
  }

  /** Records a frame (the caller sends it right after). */
  add(seq: number, conn: C, shard: number, docKey: string, send: () => void, critical = true): void {
    const t = this.now();
    this.entries.set(seq, { seq, conn, shard, docKey, send, critical, firstSentAt: t, lastSentAt: t });
    if (critical) this.criticalCount++;
  }

  /** The pending entry of `seq`, if it is still unacknowledged. */
  get(seq: number): PendingUpdate<C> | undefined {
    return this.entries.get(seq);
  }

  /** Nobody listened on the shard inbox (no owner right now): retry soon instead of after the timeout. */
  retrySoon(seq: number, afterMs: number): void {
    const e = this.entries.get(seq);
    if (e) e.lastSentAt = Math.min(e.lastSentAt, this.now() - this.retryMs + afterMs);
  }

  /** The shard acknowledged `seq` (durable). Unknown or repeated acks are ignored. */
  ack(seq: number): void {
    const e = this.entries.get(seq);
    if (!e) return;
    this.remove(e);
    this.settle();
  }

  private remove(e: PendingUpdate<C>): void {
    this.entries.delete(e.seq);
    if (e.critical) this.criticalCount--;
  }

  /** Forgets every update of a closed connection (its client resyncs on reconnect). */
  dropConnection(conn: C): void {
    for (const e of [...this.entries.values()]) if (e.conn === conn) this.remove(e);
    for (let i = this.barriers.length - 1; i >= 0; i--)
      if (this.barriers[i].conn === conn) this.barriers.splice(i, 1);
    this.settle();
  }

  /**
   * Resolves once every update `conn` sent for `docKey` so far is acknowledged: the `save`
   * barrier of docs/protocol.md#text-frames-json. Never resolves if the connection is dropped first.
   */
  barrier(conn: C, docKey: string): Promise<void> {
    const upTo = this.nextSeq - 1;
    return new Promise((resolve) => {
      this.barriers.push({ conn, docKey, upTo, resolve });
      this.settle();
    });
  }

  /** Resolves when no critical entry (update or save) is pending any more (graceful drain). */
  whenIdle(): Promise<void> {
    if (this.criticalCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Re-sends every update of `shard` at once (its owner changed). Returns the number re-sent. */
  resendShard(shard: number): number {
    const t = this.now();
    let resent = 0;
    for (const e of this.entries.values()) {
      if (e.shard !== shard) continue;
      e.lastSentAt = t;
      e.send();
      resent++;
    }
    return resent;
  }

  /** Periodic check: re-send overdue updates, give up on hopeless ones. Returns the number re-sent. */
  tick(): number {
    let resent = 0;
    const t = this.now();
    const givenUp = new Set<C>();
    for (const e of this.entries.values()) {
      if (t - e.firstSentAt >= this.giveUpMs) givenUp.add(e.conn);
      else if (t - e.lastSentAt >= this.retryMs) {
        e.lastSentAt = t;
        e.send();
        resent++;
      }
    }
    for (const conn of givenUp) {
      this.dropConnection(conn);
      this.events.onGiveUp(conn);
    }
    return resent;
  }

  private settle(): void {
    for (let i = this.barriers.length - 1; i >= 0; i--) {
      const b = this.barriers[i];
      let blocked = false;
      for (const e of this.entries.values()) {
        if (e.seq <= b.upTo && e.conn === b.conn && e.docKey === b.docKey) {
          blocked = true;
          break;
        }
      }
      if (!blocked) {
        this.barriers.splice(i, 1);
        b.resolve();
      }
    }
    if (this.criticalCount === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
