/**
 * Cluster-wide workspace presence (docs/protocol.md#text-frames-json `peer_joined`/`peer_left`/`focus_list_changed`).
 *
 * The owner of a workspace doc's shard sees every connection of that workspace doc, so it keeps:
 * - `workspacePeersKey` hash: field `${gatewayId}|${connId}` → join time (ms); peer_count = HLEN;
 * - `workspaceFocusKey` hash: same field → JSON array of that connection's focused paths;
 *   the workspace focus list = sorted union of all fields.
 * Both live in Redis so a new shard owner continues where the old one stopped. Entries of a
 * gateway whose heartbeat (`${p}:instance:gateway:{id}`) is gone are removed by {@link sweep}
 * (a crashed gateway never sends `disconnect`). Every change is published as a
 * `workspace_event` envelope on `workspaceChannel(prefix, tenant, workspace)`.
 *
 * `focus_list_changed` is coalesced per workspace: a change schedules ONE publication
 * `focusDebounceMs` later (later changes in that window join it), and the published list is cut
 * to `maxFocusListBytes` of JSON (sorted paths, the first ones that fit; counted in
 * `diaryx_focus_list_truncated_total`), so no workspace event fanned out to every socket of a
 * workspace can grow without bound (docs/limits.md).
 */
import {
  connectionField,
  encodeEnvelope,
  isInstanceAlive,
  presenceIndexKey,
  workspaceChannel,
  workspaceFocusKey,
  workspacePeersKey,
  publishOnBus,
  type WorkspaceEvent,
  parseConnectionField,
} from '@diaryx-sync/bus';
import type { Logger, RedisClient } from '@diaryx-sync/runtime';

/** Options of {@link PresenceTracker}. */
export interface PresenceOptions {
  redis: RedisClient;
  prefix: string;
  logger: Logger;
  /** Entries younger than this are never swept (default 10000 ms). */
  sweepGraceMs?: number;
  /** Gateway liveness (default: its heartbeat key exists). */
  isGatewayAlive?: (gatewayId: string) => Promise<boolean>;
  /** Coalescing window of `focus_list_changed` per workspace (default 250 ms). */
  focusDebounceMs?: number;
  /** Largest JSON size of a published focus list (default 64 KiB). */
  maxFocusListBytes?: number;
  /** Counts truncated focus lists (`docs.focusListTruncated`). */
  onFocusListTruncated?: () => void;
}

/** A workspace with presence, for heartbeats. */
export interface WorkspacePresence {
  tenant: string;
  workspace: string;
  peers: number;
}

const MAX_FOCUS_FILES = 1000;
const MAX_PATH_LENGTH = 1024;

/** See module doc. Operations on one workspace run one after another. */
export class PresenceTracker {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly lastFocus = new Map<string, string>();
  private readonly graceMs: number;
  private readonly isGatewayAlive: (gatewayId: string) => Promise<boolean>;
  /** Scheduled focus publications by index entry. */
  private readonly focusTimers = new Map<string, NodeJS.Timeout>();
  private readonly focusDebounceMs: number;
  private readonly maxFocusListBytes: number;

  constructor(private readonly opts: PresenceOptions) {
    this.graceMs = opts.sweepGraceMs ?? 10000;
    this.focusDebounceMs = opts.focusDebounceMs ?? 250;
    this.maxFocusListBytes = opts.maxFocusListBytes ?? 64 * 1024;
    this.isGatewayAlive =
      opts.isGatewayAlive ?? ((id) => isInstanceAlive(opts.redis, opts.prefix, 'gateway', id));
  }

  /** A connection subscribed to the workspace doc (no-op when already counted). */
  join(tenant: string, workspace: string, gatewayId: string, connId: string): Promise<void> {
    return this.serial(tenant, workspace, async () => {
      const { redis, prefix } = this.opts;
      // the index first (another slot on Redis Cluster): a sweep may then see an empty workspace
      await redis.sadd(presenceIndexKey(prefix), indexEntry(tenant, workspace));
      const res = await redis
        .multi()
        .hset(
          workspacePeersKey(prefix, tenant, workspace),
          connectionField(gatewayId, connId),
          String(Date.now()),
        )
        .hlen(workspacePeersKey(prefix, tenant, workspace))
        .exec();
      if (Number(res?.[0]?.[1]) === 1) {
        await this.publish(tenant, {
          type: 'peer_joined',
          workspace,
          peer_count: Number(res?.[1]?.[1] ?? 0),
        });
      }
    });
  }

  /** A connection left the workspace doc (or closed): it leaves the peers and the focus set. */
  leave(tenant: string, workspace: string, gatewayId: string, connId: string): Promise<void> {
    return this.serial(tenant, workspace, async () => {
      const field = connectionField(gatewayId, connId);
      await this.removeFields(tenant, workspace, [field], [field]);
    });
  }

  /** Sets a connection's complete focus set (paths) in the workspace; publishes a changed union. */
  setFocus(
    tenant: string,
    workspace: string,
    gatewayId: string,
    connId: string,
    files: string[],
  ): Promise<void> {
    return this.serial(tenant, workspace, async () => {
      const { redis, prefix } = this.opts;
      const clean = [
        ...new Set(files.filter((f) => typeof f === 'string' && f.length > 0 && f.length <= MAX_PATH_LENGTH)),
      ]
        .sort()
        .slice(0, MAX_FOCUS_FILES);
      const key = workspaceFocusKey(prefix, tenant, workspace);
      const field = connectionField(gatewayId, connId);
      if (clean.length === 0) await redis.hdel(key, field);
      else {
        await redis.sadd(presenceIndexKey(prefix), indexEntry(tenant, workspace));
        await redis.hset(key, field, JSON.stringify(clean));
      }
      this.scheduleFocusPublish(tenant, workspace);
    });
  }

  /**
   * Removes entries of dead gateways in the workspaces `owns` accepts; publishes the resulting
   * peer_left / focus_list_changed events. Forgets empty workspaces.
   */
  async sweep(owns: (tenant: string, workspace: string) => boolean): Promise<void> {
    const { redis, prefix } = this.opts;
    const entries = await redis.smembers(presenceIndexKey(prefix));
    const alive = new Map<string, boolean>();
    const gatewayAlive = async (id: string) => {
      if (!alive.has(id)) alive.set(id, await this.isGatewayAlive(id));
      return alive.get(id)!;
    };
    for (const entry of entries) {
      const parsed = parseIndexEntry(entry);
      if (!parsed || !owns(parsed.tenant, parsed.workspace)) continue;
      const { tenant, workspace } = parsed;
      await this.serial(tenant, workspace, async () => {
        const peers = await redis.hgetall(workspacePeersKey(prefix, tenant, workspace));
        const focus = await redis.hgetall(workspaceFocusKey(prefix, tenant, workspace));
        const now = Date.now();
        const deadPeers: string[] = [];
        for (const [field, joined] of Object.entries(peers)) {
          if (now - Number(joined) < this.graceMs) continue;
          if (!(await gatewayAlive(parseConnectionField(field).gatewayId))) deadPeers.push(field);
        }
        const deadFocus: string[] = [];
        for (const field of Object.keys(focus)) {
          const joined = Number(peers[field] ?? 0);
          if (now - joined < this.graceMs) continue;
          if (!(await gatewayAlive(parseConnectionField(field).gatewayId))) deadFocus.push(field);
        }
        if (deadPeers.length > 0 || deadFocus.length > 0)
          await this.removeFields(tenant, workspace, deadPeers, deadFocus);
        const left = await redis
          .multi()
          .hlen(workspacePeersKey(prefix, tenant, workspace))
          .hlen(workspaceFocusKey(prefix, tenant, workspace))
          .exec();
        if (Number(left?.[0]?.[1]) === 0 && Number(left?.[1]?.[1]) === 0) {
          await redis.srem(presenceIndexKey(prefix), entry);
          this.lastFocus.delete(entry);
        }
      });
    }
  }

  /** Workspaces with peers among those `owns` accepts (at most `limit`), for heartbeats. */
  async workspaces(
    owns: (tenant: string, workspace: string) => boolean,
    limit = 100,
  ): Promise<WorkspacePresence[]> {
    const { redis, prefix } = this.opts;
    const out: WorkspacePresence[] = [];
    for (const entry of await redis.smembers(presenceIndexKey(prefix))) {
      const parsed = parseIndexEntry(entry);
      if (!parsed || !owns(parsed.tenant, parsed.workspace)) continue;
      const peers = await redis.hlen(workspacePeersKey(prefix, parsed.tenant, parsed.workspace));
      if (peers > 0) out.push({ ...parsed, peers });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Waits for every queued presence operation (scheduled focus publications run now). */
  async drain(): Promise<void> {
    for (const [entry, timer] of [...this.focusTimers]) {
      clearTimeout(timer);
      this.focusTimers.delete(entry);
      const parsed = parseIndexEntry(entry);
      if (parsed)
        void this.serial(parsed.tenant, parsed.workspace, () =>
          this.publishFocusIfChanged(parsed.tenant, parsed.workspace),
        );
    }
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  /**
   * Forgets a deleted workspace's presence: drops its peers and focus hashes, its index entry
   * and any scheduled publication.
   */
  async forgetWorkspace(tenant: string, workspace: string): Promise<void> {
    const entry = indexEntry(tenant, workspace);
    clearTimeout(this.focusTimers.get(entry));
    this.focusTimers.delete(entry);
    this.lastFocus.delete(entry);
    await this.serial(tenant, workspace, async () => {
      const { redis, prefix } = this.opts;
      await redis.del(workspacePeersKey(prefix, tenant, workspace));
      await redis.del(workspaceFocusKey(prefix, tenant, workspace));
      await redis.srem(presenceIndexKey(prefix), entry);
    });
  }

  /** Publishes the workspace's focus list once, `focusDebounceMs` after the first unpublished change. */
  private scheduleFocusPublish(tenant: string, workspace: string): void {
    const entry = indexEntry(tenant, workspace);
    if (this.focusTimers.has(entry)) return;
    const timer = setTimeout(() => {
      this.focusTimers.delete(entry);
      void this.serial(tenant, workspace, () => this.publishFocusIfChanged(tenant, workspace));
    }, this.focusDebounceMs);
    timer.unref();
    this.focusTimers.set(entry, timer);
  }

  private async removeFields(
    tenant: string,
    workspace: string,
    peerFields: string[],
    focusFields: string[],
  ): Promise<void> {
    const { redis, prefix } = this.opts;
    const peersKey = workspacePeersKey(prefix, tenant, workspace);
    const focusKey = workspaceFocusKey(prefix, tenant, workspace);
    const m = redis.multi();
    if (peerFields.length > 0) m.hdel(peersKey, ...peerFields);
    else m.hlen(peersKey);
    if (focusFields.length > 0) m.hdel(focusKey, ...focusFields);
    else m.hlen(focusKey);
    m.hlen(peersKey);
    const res = await m.exec();
    const removedPeers = peerFields.length > 0 ? Number(res?.[0]?.[1] ?? 0) : 0;
    const removedFocus = focusFields.length > 0 ? Number(res?.[1]?.[1] ?? 0) : 0;
    if (removedPeers > 0) {
      await this.publish(tenant, { type: 'peer_left', workspace, peer_count: Number(res?.[2]?.[1] ?? 0) });
    }
    if (removedFocus > 0) this.scheduleFocusPublish(tenant, workspace);
  }

  private async publishFocusIfChanged(tenant: string, workspace: string): Promise<void> {
    const values = await this.opts.redis.hvals(workspaceFocusKey(this.opts.prefix, tenant, workspace));
    const union = new Set<string>();
    for (const v of values) {
      try {
        const files = JSON.parse(v) as unknown;
        if (Array.isArray(files)) for (const f of files) if (typeof f === 'string') union.add(f);
      } catch {
        // a corrupt entry is ignored
      }
    }
    const files = this.boundFocusList([...union].sort(), tenant, workspace);
    const sig = JSON.stringify(files);
    const entry = indexEntry(tenant, workspace);
    if (this.lastFocus.get(entry) === sig) return;
    this.lastFocus.set(entry, sig);
    await this.publish(tenant, { type: 'focus_list_changed', workspace, files });
  }

  /** The first sorted paths whose JSON fits `maxFocusListBytes` (all of them when they fit). */
  private boundFocusList(files: string[], tenant: string, workspace: string): string[] {
    let bytes = 2; // the brackets
    for (let i = 0; i < files.length; i++) {
      bytes += Buffer.byteLength(JSON.stringify(files[i])) + (i > 0 ? 1 : 0);
      if (bytes > this.maxFocusListBytes) {
        this.opts.onFocusListTruncated?.();
        this.opts.logger.warn(
          { tenant, workspace, files: files.length, kept: i },
          'focus list cut to the fan-out bound',
        );
        return files.slice(0, i);
      }
    }
    return files;
  }

  private async publish(tenant: string, event: WorkspaceEvent): Promise<void> {
    const bytes = encodeEnvelope({ type: 'workspace_event', tenant, event });
    await publishOnBus(
      this.opts.redis,
      workspaceChannel(this.opts.prefix, tenant, event.workspace),
      Buffer.from(bytes),
    );
  }

  private serial(tenant: string, workspace: string, fn: () => Promise<void>): Promise<void> {
    const key = indexEntry(tenant, workspace);
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: Error) => {
      this.opts.logger.warn({ err: err.message, tenant, workspace }, 'presence update failed');
    });
    this.chains.set(key, next);
    void next.finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }
}

function indexEntry(tenant: string, workspace: string): string {
  return `${tenant}\n${workspace}`;
}

function parseIndexEntry(entry: string): { tenant: string; workspace: string } | null {
  const i = entry.indexOf('\n');
  return i > 0 ? { tenant: entry.slice(0, i), workspace: entry.slice(i + 1) } : null;
}
