/**
 * Shard ownership by Redis lease (docs/architecture.md#properties, property 1).
 *
 * - Every instance registers in the members sorted set (`score` = expiry ms) at each renewal.
 * - It renews its leases every `renewMs` (TTL `ttlMs`) on a timer of its own, never behind a
 *   rebalance round; a lease it fails to renew is LOST: the owner is told at once
 *   ({@link ShardLeaseHandlers.onLost}) and must stop serving the shard.
 * - Overloaded (event-loop delay above `overloadDelayMs` for `overloadRounds` rounds), it hands
 *   shards over gracefully one at a time instead of losing them all by accident.
 * - It targets `ceil(shardCount / liveMembers)` shards: surplus shards are released gracefully
 *   ({@link ShardLeaseHandlers.onReleasing} flushes first, then the lease is deleted), missing
 *   ones are acquired among the free shards, preferring shards by rendezvous hash so instances
 *   settle on disjoint sets quickly. A crashed instance's leases expire after `ttlMs`; the others
 *   tick right after that expiry (docs/fencing.md "Takeover").
 * - Each acquisition gets a fencing token (INCR per shard, then raised in PostgreSQL above every
 *   earlier one, docs/fencing.md); the database refuses batches under an older token.
 *   {@link ShardLeaseManager.checkFence} is called before each PostgreSQL write: it requires a
 *   locally valid lease (renewed less than `ttlMs - fenceMarginMs` ago), so an instance whose
 *   lease expired or whose renewal found it taken stops persisting; the database fence refuses
 *   what a stale owner writes in between.
 */
import { docServiceLoadKey, docServiceMembersKey, shardFenceKey, shardLeaseKey } from '@diaryx-sync/bus';
import type { Logger, RedisClient } from '@diaryx-sync/runtime';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { RedisTopology } from '@diaryx-sync/runtime';
import { getEach, pttlEach } from './key-reads';
import { ThreadLeaseRenewal } from './thread-lease-renewal';
import { DOC_SERVICE_DEFAULTS } from '../config';
import { leaseScripts, type LeaseScripts } from './lease-scripts';

/** Callbacks of {@link ShardLeaseManager}. */
export interface ShardLeaseHandlers {
  /** The lease was acquired: start serving (subscribe the inbox). */
  onAcquired(shard: number, token: number): Promise<void>;
  /** The shard is being handed over: stop taking work, flush, unload. The lease is still held. */
  onReleasing(shard: number): Promise<void>;
  /** The lease is gone (expired, stolen): stop serving AT ONCE, persist nothing more. */
  onLost(shard: number): void;
}

/** Options of {@link ShardLeaseManager}. */
export interface ShardLeaseOptions {
  redis: RedisClient;
  prefix: string;
  shardCount: number;
  instanceId: string;
  logger: Logger;
  handlers: ShardLeaseHandlers;
  /** Lease TTL (default `DOC_SERVICE_DEFAULTS.leaseTtlMs`; docs/fencing.md explains the choice). */
  ttlMs?: number;
  /** Renew/rebalance period (default `DOC_SERVICE_DEFAULTS.leaseRenewMs`). */
  renewMs?: number;
  /** A lease counts as valid for writes only while at least this much of its TTL is left (default 1000 ms). */
  fenceMarginMs?: number;
  /** Called on every acquisition/release/loss (metrics). */
  onEvent?: (event: 'acquired' | 'released' | 'lost', shard: number) => void;
  /**
   * Raises the shard's fence in the database (`raiseShardFence`, docs/fencing.md) after the Redis
   * lease is taken and before the shard is served; resolves to the token to write under (at
   * least `redisToken`). Default: the Redis token as is (no database fence).
   */
  raiseFence?: (shard: number, redisToken: number) => Promise<number>;
  /**
   * Current load as event-loop delay in ms (default: the p99 of `monitorEventLoopDelay` over the
   * last rebalance round). Above `overloadDelayMs` in `overloadRounds` consecutive rounds the
   * instance hands one shard over gracefully (docs/fencing.md "Overload").
   */
  loadProbe?: () => number;
  /** Event-loop delay that counts as overloaded (default ttlMs / 4). */
  overloadDelayMs?: number;
  /** Consecutive overloaded rounds before a shard is handed over (default 3). */
  overloadRounds?: number;
  /**
   * Renew on a worker thread with its own connection to this Redis ({@link ThreadLeaseRenewal}),
   * so renewal never waits for the main event loop. Ignored where the compiled worker is missing
   * (sources under a test runner): renewal then runs on a main-thread timer.
   */
  renewalThread?: { redis: RedisTopology; workerFile?: string };
}

interface OwnedShard {
  token: number;
  /** Lease value `${instanceId}:${redisToken}` (the Redis token may be below `token`). */
  value: string;
  /** Local expiry bound: time the last successful renew/acquire was SENT + ttl. */
  validUntil: number;
  releasing: boolean;
}

/** See module doc. */
export class ShardLeaseManager {
  private readonly owned = new Map<number, OwnedShard>();
  private readonly scripts: LeaseScripts;
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly fenceMarginMs: number;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private running = false;
  private readonly releases = new Set<Promise<void>>();
  /** Delay of the next tick: `renewMs`, or less when another member's lease expires sooner. */
  private nextTickMs: number;
  private renewTimer: NodeJS.Timeout | undefined;
  private thread: ThreadLeaseRenewal | undefined;
  private renewing: Promise<void> | undefined;
  /** Renewals continue while this is true (also during a graceful stop, until released). */
  private renewingOn = false;
  /** Time the last successful renewal round was sent (diagnostics of a loss). */
  private lastRenewSentAt = 0;
  private readonly loop: IntervalHistogram | undefined;
  private readonly loadProbe: () => number;
  private overloadedRounds = 0;
  /** Shards handed over because of overload, subtracted from the target (decays when healthy). */
  private shed = 0;
  private healthySince = Date.now();

  constructor(private readonly opts: ShardLeaseOptions) {
    this.scripts = leaseScripts(opts.redis);
    this.ttlMs = opts.ttlMs ?? DOC_SERVICE_DEFAULTS.leaseTtlMs;
    this.renewMs = opts.renewMs ?? DOC_SERVICE_DEFAULTS.leaseRenewMs;
    this.fenceMarginMs = opts.fenceMarginMs ?? Math.min(1000, Math.floor(this.ttlMs / 3));
    this.nextTickMs = this.renewMs;
    if (opts.loadProbe) this.loadProbe = opts.loadProbe;
    else {
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      this.loop = loop;
      this.loadProbe = () => loop.percentile(99) / 1e6;
    }
  }

  /** True once renewal runs on the worker thread (its first round is done). */
  get renewingOnThread(): boolean {
    return this.thread?.running ?? false;
  }

  /** Event-loop delay p99 (ms) of the last rebalance round (metrics, diagnostics). */
  get loadMs(): number {
    return this.loadProbe();
  }

  /** Registers and runs the first tick (acquiring shards), then keeps ticking. */
  async start(): Promise<void> {
    this.running = true;
    this.renewingOn = true;
    const threaded = this.opts.renewalThread;
    if (threaded && ThreadLeaseRenewal.available(threaded.workerFile)) {
      this.thread = new ThreadLeaseRenewal({
        topology: threaded.redis,
        workerFile: threaded.workerFile,
        prefix: this.opts.prefix,
        instanceId: this.opts.instanceId,
        shardCount: this.opts.shardCount,
        ttlMs: this.ttlMs,
        renewMs: this.renewMs,
        onLost: (shard, value, since) => {
          if (this.owned.get(shard)?.value !== value) return;
          this.lose(shard, `lease taken or expired (renewal thread; previous renewal ${since} ms earlier)`);
        },
        onReport: (level, message) => this.opts.logger[level](message),
      });
    }
    await this.tick();
    this.schedule();
    if (!this.thread) this.scheduleRenew();
  }

  /** Runs one renew/rebalance round now (tests). */
  tick(): Promise<void> {
    if (!this.ticking) {
      this.ticking = this.renewRound()
        .then(() => this.runTick())
        .finally(() => {
          this.ticking = undefined;
        });
    }
    return this.ticking;
  }

  /** Shards this instance currently owns and serves (not being released), sorted. */
  ownedShards(): number[] {
    return [...this.owned.entries()]
      .filter(([, o]) => !o.releasing)
      .map(([s]) => s)
      .sort((a, b) => a - b);
  }

  /** True while this instance may serve `shard` (owned, not being released, locally valid). */
  serves(shard: number): boolean {
    const o = this.owned.get(shard);
    return !!o && !o.releasing && Date.now() < this.validOf(shard, o);
  }

  /** True while the lease of `shard` is held (also during a graceful release). */
  holds(shard: number): boolean {
    const o = this.owned.get(shard);
    return !!o && Date.now() < this.validOf(shard, o);
  }

  /** The fencing token of an owned shard. */
  tokenOf(shard: number): number | undefined {
    return this.owned.get(shard)?.token;
  }

  /**
   * Fencing check before a write: the shards (of `shards`) whose lease is still ours by its local
   * validity bound (the last renewal Redis confirmed, at most `renewMs` ago), with the given token
   * when one is passed. No Redis round trip: a lease taken in Redis since the last renewal is
   * caught by the next renewal, and a batch written in between is refused by the database fence
   * (docs/fencing.md).
   */
  checkFence(shards: Iterable<number>, tokens?: ReadonlyMap<number, number>): Set<number> {
    const now = Date.now();
    const valid = new Set<number>();
    for (const s of new Set(shards)) {
      const o = this.owned.get(s);
      if (!o || now >= this.validOf(s, o) - this.fenceMarginMs) continue;
      if (tokens && tokens.has(s) && tokens.get(s) !== o.token) continue;
      valid.add(s);
    }
    return valid;
  }

  /**
   * Leaves the member set (the others' next tick targets every shard), then releases every shard
   * gracefully (onReleasing first, then the lease is deleted, so another instance takes it at once).
   */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.ticking?.catch(() => undefined);
    this.thread?.leave();
    await this.opts.redis
      .zrem(docServiceMembersKey(this.opts.prefix), this.opts.instanceId)
      .catch(() => undefined);
    await this.opts.redis
      .hdel(docServiceLoadKey(this.opts.prefix), this.opts.instanceId)
      .catch(() => undefined);
    for (const s of [...this.owned.keys()]) this.startRelease(s);
    await Promise.allSettled([...this.releases]);
    this.renewingOn = false;
    clearTimeout(this.renewTimer);
    await this.renewing?.catch(() => undefined);
    await this.thread?.stop();
    this.loop?.disable();
  }

  /**
   * Gives shards up at once (the database refused a write under their token: another instance
   * owns them now): stop serving, and delete their Redis lease if it is still ours.
   */
  giveUp(shards: Iterable<number>, reason: string): void {
    for (const s of shards) {
      const o = this.owned.get(s);
      if (!o) continue;
      this.lose(s, reason);
      void this.scripts.release(shardLeaseKey(this.opts.prefix, s), o.value).catch(() => undefined);
    }
  }

  /** Stops ticking WITHOUT releasing anything (simulates a crash in tests: leases expire). */
  abandon(): void {
    this.running = false;
    this.renewingOn = false;
    clearTimeout(this.timer);
    clearTimeout(this.renewTimer);
    void this.thread?.stop();
    this.loop?.disable();
  }

  /**
   * Renewal runs on its own timer, never behind a rebalance round (acquisitions wait for Redis,
   * the database fence and subscriptions; under load that can outlast the TTL).
   */
  private scheduleRenew(): void {
    if (!this.renewingOn) return;
    this.renewTimer = setTimeout(() => {
      this.renewing ??= this.renewRound()
        .catch((err: Error) => this.opts.logger.warn({ err: err.message }, 'shard lease renewal failed'))
        .finally(() => {
          this.renewing = undefined;
          this.scheduleRenew();
        });
    }, this.renewMs);
    this.renewTimer.unref();
  }

  /** Renews every held lease and the membership entry (both are liveness). */
  private async renewRound(): Promise<void> {
    const sentAt = Date.now();
    try {
      await this.renew(sentAt);
      if (this.running) {
        await this.opts.redis.zadd(
          docServiceMembersKey(this.opts.prefix),
          sentAt + this.ttlMs,
          this.opts.instanceId,
        );
      }
      this.lastRenewSentAt = sentAt;
    } catch (err) {
      this.expireLocally();
      throw err;
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.tick()
        .catch((err: Error) => this.opts.logger.warn({ err: err.message }, 'shard lease tick failed'))
        .finally(() => this.schedule());
    }, this.nextTickMs);
    this.timer.unref();
  }

  private async runTick(): Promise<void> {
    const { redis, prefix, instanceId } = this.opts;
    const sentAt = Date.now();
    const membersKey = docServiceMembersKey(prefix);
    try {
      if (!this.running) return;
      await redis.zadd(membersKey, sentAt + this.ttlMs, instanceId);
      await redis.zremrangebyscore(membersKey, '-inf', sentAt - 1);
      const live = await redis.zrangebyscore(membersKey, sentAt, '+inf');
      if (!live.includes(instanceId)) live.push(instanceId);
      const members = live.length;
      const target = await this.targetOf(live);
      const active = this.ownedShards();
      if (active.length > target) {
        const surplus = active.sort((a, b) => this.score(a) - this.score(b)).slice(0, active.length - target);
        for (const s of surplus) this.startRelease(s);
      } else if (active.length < target) {
        await this.acquire(target - active.length);
      }
      const now = this.ownedShards().length;
      if (now !== active.length)
        this.opts.logger.info({ owned: now, target, members }, 'shard ownership changed');
      this.nextTickMs = await this.untilNextExpiry(now < target);
    } catch (err) {
      this.expireLocally();
      throw err;
    }
  }

  /**
   * Deliberate load shedding: after `overloadRounds` rounds in a row with this instance's
   * event-loop delay above `overloadDelayMs` while another live instance is below half of it (a
   * machine-wide slowdown is no reason to move shards), shed one more step (halves this
   * instance's weight in the targets); after 10 s without overload one step back.
   */
  private overload(delay: number, peerDelays: number[]): number {
    const limit = this.opts.overloadDelayMs ?? this.ttlMs / 4;
    if (delay > limit && peerDelays.some((d) => d < limit / 2)) {
      this.healthySince = Date.now();
      if (++this.overloadedRounds >= (this.opts.overloadRounds ?? 3)) {
        this.overloadedRounds = 0;
        this.shed = Math.min(this.shed + 1, Math.ceil(Math.log2(this.opts.shardCount)));
        this.opts.logger.warn(
          { delayMs: Math.round(delay), shed: this.shed },
          'overloaded: handing shards over deliberately',
        );
      }
    } else {
      this.overloadedRounds = 0;
      if (this.shed > 0 && Date.now() - this.healthySince > 10_000) {
        this.shed--;
        this.healthySince = Date.now();
      }
    }
    if (peerDelays.length === 0) this.shed = 0;
    return this.shed;
  }

  /**
   * This instance's share of the shards. Publishes its load (event-loop delay, shed step) in the
   * load hash and reads the other live members'. Without overload: `ceil(shards / members)`. An
   * instance shedding `k` counts with weight 2^-k and takes the floor of its weighted share; the
   * healthy ones split the rest (ceil), so the targets always cover every shard.
   */
  private async targetOf(live: string[]): Promise<number> {
    const { redis, prefix, instanceId, shardCount } = this.opts;
    const loadKey = docServiceLoadKey(prefix);
    const delay = this.loadProbe();
    this.loop?.reset();
    const others = live.filter((id) => id !== instanceId);
    const loads = others.length > 0 ? (await redis.hmget(loadKey, ...others)).map(parseLoad) : [];
    const shed = this.overload(
      delay,
      loads.map((l) => l.delayMs),
    );
    await redis.hset(loadKey, instanceId, JSON.stringify({ shed, delayMs: Math.round(delay) }));
    const sheds = [shed, ...loads.map((l) => l.shed)];
    const weight = (k: number) => 2 ** -k;
    const total = sheds.reduce((sum, k) => sum + weight(k), 0);
    const healthy = sheds.filter((k) => k === 0).length;
    if (healthy === 0 || healthy === sheds.length) return Math.ceil(shardCount / sheds.length);
    const overloadedShare = (k: number) => Math.max(1, Math.floor((shardCount * weight(k)) / total));
    if (shed > 0) return overloadedShare(shed);
    const taken = sheds.filter((k) => k > 0).reduce((sum, k) => sum + overloadedShare(k), 0);
    return Math.ceil(Math.max(0, shardCount - taken) / healthy);
  }

  private async renew(sentAt: number): Promise<void> {
    const shards = [...this.owned.keys()];
    if (shards.length === 0) return;
    const values = shards.map((s) => this.owned.get(s)!.value);
    const res = await this.scripts.renew(
      shards.map((s) => shardLeaseKey(this.opts.prefix, s)),
      values,
      this.ttlMs,
    );
    shards.forEach((s, i) => {
      const o = this.owned.get(s);
      if (!o || o.value !== values[i]) return;
      if (Number(res[i]) === 1) o.validUntil = sentAt + this.ttlMs;
      else
        this.lose(
          s,
          `lease taken or expired (last renewal sent ${sentAt - this.lastRenewSentAt} ms earlier, event-loop delay p99 ${Math.round(this.loadProbe())} ms)`,
        );
    });
  }

  /**
   * Crash takeover without waiting for a whole renew period: when another member's registration
   * (or, while short of the target, another instance's lease) expires before the next regular
   * tick, tick right after that expiry instead. Alive members renew every `renewMs`, so their
   * expiry is always further away than that; only a stopped one makes the next tick earlier.
   */
  private async untilNextExpiry(shortOfTarget: boolean): Promise<number> {
    const { redis, prefix, instanceId } = this.opts;
    const now = Date.now();
    let wait = this.renewMs;
    const members = await redis.zrange(docServiceMembersKey(prefix), 0, -1, 'WITHSCORES');
    for (let i = 0; i + 1 < members.length; i += 2) {
      if (members[i] === instanceId) continue;
      wait = Math.min(wait, Number(members[i + 1]) - now + 15);
    }
    if (shortOfTarget) {
      const keys: string[] = [];
      for (let s = 0; s < this.opts.shardCount; s++)
        if (!this.owned.has(s)) keys.push(shardLeaseKey(prefix, s));
      for (const pttl of await pttlEach(redis, keys)) {
        if (pttl !== null && pttl > 0) wait = Math.min(wait, pttl + 10);
      }
    }
    return Math.max(10, wait);
  }

  /** After a failed round trip: drop the leases whose local time bound has passed. */
  private expireLocally(): void {
    const now = Date.now();
    for (const [s, o] of this.owned)
      if (now >= this.validOf(s, o) - this.fenceMarginMs) this.lose(s, 'could not renew in time');
  }

  /** Validity bound of a held lease: its own, or the renewal thread's when later. */
  private validOf(shard: number, o: OwnedShard): number {
    return Math.max(o.validUntil, this.thread?.validUntilOf(shard) ?? 0);
  }

  /** Tells the renewal thread which leases are held now. */
  private syncThread(): void {
    this.thread?.setLeases(
      [...this.owned].map(([shard, o]) => ({
        shard,
        key: shardLeaseKey(this.opts.prefix, shard),
        value: o.value,
      })),
    );
  }

  private lose(shard: number, reason: string): void {
    if (!this.owned.delete(shard)) return;
    this.thread?.clear(shard);
    this.syncThread();
    this.opts.logger.warn({ shard, reason }, 'shard lease lost');
    this.opts.onEvent?.('lost', shard);
    try {
      this.opts.handlers.onLost(shard);
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message, shard }, 'onLost handler failed');
    }
  }

  private async acquire(count: number): Promise<void> {
    const { redis, prefix } = this.opts;
    const keys = Array.from({ length: this.opts.shardCount }, (_, s) => shardLeaseKey(prefix, s));
    const holders = await getEach(redis, keys);
    const free = holders
      .map((v, s) => (v === null && !this.owned.has(s) ? s : -1))
      .filter((s) => s >= 0)
      .sort((a, b) => this.score(b) - this.score(a));
    // in parallel (a takeover moves many shards at once), in preference order, until enough
    let candidates = free;
    let missing = count;
    while (missing > 0 && candidates.length > 0 && this.running) {
      const batch = candidates.slice(0, missing);
      candidates = candidates.slice(missing);
      const got = await Promise.all(batch.map((s) => this.acquireOne(s, keys[s]!)));
      missing -= got.filter(Boolean).length;
    }
  }

  /** Takes one free shard: Redis lease, database fence, then onAcquired. True when served. */
  private async acquireOne(s: number, key: string): Promise<boolean> {
    const { prefix, instanceId } = this.opts;
    const sentAt = Date.now();
    const redisToken = await this.scripts.acquire(key, shardFenceKey(prefix, s), instanceId, this.ttlMs);
    if (redisToken <= 0 || !this.running) {
      if (redisToken > 0)
        await this.scripts.release(key, `${instanceId}:${redisToken}`).catch(() => undefined);
      return false;
    }
    const value = `${instanceId}:${redisToken}`;
    let token = redisToken;
    try {
      if (this.opts.raiseFence) token = await this.opts.raiseFence(s, redisToken);
      // keep the Redis counter ahead of the database fence (it may have lost its data)
      if (token > redisToken) await this.scripts.raiseCounter(shardFenceKey(prefix, s), token);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message, shard: s }, 'could not raise the shard fence');
      await this.scripts.release(key, value).catch(() => undefined);
      return false;
    }
    const o: OwnedShard = { token, value, validUntil: sentAt + this.ttlMs, releasing: false };
    this.thread?.clear(s);
    this.owned.set(s, o);
    this.syncThread();
    try {
      await this.opts.handlers.onAcquired(s, token);
      this.opts.onEvent?.('acquired', s);
      this.opts.logger.debug({ shard: s, token }, 'shard acquired');
      return true;
    } catch (err) {
      this.opts.logger.error(
        { err: (err as Error).message, shard: s },
        'could not start serving shard; releasing it',
      );
      this.owned.delete(s);
      this.thread?.clear(s);
      this.syncThread();
      await this.scripts.release(key, o.value).catch(() => undefined);
      return false;
    }
  }

  private startRelease(shard: number): void {
    const o = this.owned.get(shard);
    if (!o || o.releasing) return;
    o.releasing = true;
    const p = (async () => {
      try {
        await this.opts.handlers.onReleasing(shard);
      } catch (err) {
        this.opts.logger.error({ err: (err as Error).message, shard }, 'graceful shard release failed');
      }
      if (this.owned.get(shard) !== o) return; // lost meanwhile
      this.owned.delete(shard);
      this.thread?.clear(shard);
      this.syncThread();
      await this.scripts.release(shardLeaseKey(this.opts.prefix, shard), o.value).catch(() => undefined);
      this.opts.onEvent?.('released', shard);
      this.opts.logger.debug({ shard }, 'shard released');
    })();
    this.releases.add(p);
    void p.finally(() => this.releases.delete(p));
  }

  /** Rendezvous score of (this instance, shard): higher = preferred by this instance. */
  private score(shard: number): number {
    let h = 0x811c9dc5;
    const s = `${this.opts.instanceId}#${shard}`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    return h >>> 0;
  }
}

/** One member's entry of the load hash (absent or unreadable: no load known). */
function parseLoad(raw: string | null): { shed: number; delayMs: number } {
  try {
    const v = JSON.parse(raw ?? '{}') as { shed?: unknown; delayMs?: unknown };
    return {
      shed: typeof v.shed === 'number' ? v.shed : 0,
      delayMs: typeof v.delayMs === 'number' ? v.delayMs : 0,
    };
  } catch {
    return { shed: 0, delayMs: 0 };
  }
}
