/**
 * Instance heartbeats (docs/architecture.md#heartbeats-and-ports): every service instance writes a JSON record to
 * `${prefix}:instance:{kind}:{id}` every 2 s with a TTL of ~6 s; `/readyz` and the `/ops` page
 * read them with {@link listInstances}.
 */
import { Cluster, type Redis } from 'ioredis';
import { instanceKey, instanceKeyPattern, type InstanceKind } from './names';

/** The common part of every heartbeat record; kinds add their own fields. */
export interface InstanceHeartbeat {
  id: string;
  kind: InstanceKind;
  /** RFC3339. */
  started_at: string;
  /** RFC3339. */
  updated_at: string;
  [extra: string]: unknown;
}

/** Options of {@link startHeartbeat}. */
export interface HeartbeatOptions {
  redis: Redis | Cluster;
  prefix: string;
  kind: InstanceKind;
  id: string;
  /** Default 2000 ms. */
  intervalMs?: number;
  /** Default 6000 ms. */
  ttlMs?: number;
  /** Kind-specific fields, computed at every beat. */
  extra?: () => Record<string, unknown>;
  /** Called when a beat fails (Redis down); beats keep going. */
  onError?: (err: Error) => void;
}

/** A running heartbeat. */
export interface HeartbeatHandle {
  /** Writes one beat now. */
  beat(): Promise<void>;
  /** Stops beating and deletes the record (best effort). */
  stop(): Promise<void>;
}

/** Starts writing heartbeats (the first one immediately). */
export function startHeartbeat(opts: HeartbeatOptions): HeartbeatHandle {
  const startedAt = new Date().toISOString();
  const key = instanceKey(opts.prefix, opts.kind, opts.id);
  const ttl = opts.ttlMs ?? 6000;
  let stopped = false;
  const beat = async (): Promise<void> => {
    if (stopped) return;
    const record: InstanceHeartbeat = {
      ...(opts.extra?.() ?? {}),
      id: opts.id,
      kind: opts.kind,
      started_at: startedAt,
      updated_at: new Date().toISOString(),
    };
    await opts.redis.set(key, JSON.stringify(record), 'PX', ttl);
  };
  const tick = () => void beat().catch((err: Error) => opts.onError?.(err));
  tick();
  const timer = setInterval(tick, opts.intervalMs ?? 2000);
  timer.unref();
  return {
    beat,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await opts.redis.del(key).catch(() => undefined);
    },
  };
}

/** The live instances (optionally of one kind), from their heartbeat records; sorted by kind, id. */
export async function listInstances(
  redis: Redis | Cluster,
  prefix: string,
  kind?: InstanceKind,
): Promise<InstanceHeartbeat[]> {
  const keys: string[] = [];
  // On Redis Cluster every master holds part of the keys: scan each of them.
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', instanceKeyPattern(prefix, kind), 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  if (keys.length === 0) return [];
  // one GET per key: the heartbeat keys are in different slots on a cluster
  const values = await Promise.all(keys.map((k) => redis.get(k)));
  const out: InstanceHeartbeat[] = [];
  for (const v of values) {
    if (!v) continue;
    try {
      const rec = JSON.parse(v) as InstanceHeartbeat;
      if (rec && typeof rec.id === 'string' && typeof rec.kind === 'string') out.push(rec);
    } catch {
      // a corrupt record is skipped; it expires by itself
    }
  }
  return out.sort((a, b) => (a.kind === b.kind ? a.id.localeCompare(b.id) : a.kind.localeCompare(b.kind)));
}

/** True when the instance's heartbeat record exists (it is alive). */
export async function isInstanceAlive(
  redis: Redis | Cluster,
  prefix: string,
  kind: InstanceKind,
  id: string,
): Promise<boolean> {
  return (await redis.exists(instanceKey(prefix, kind, id))) === 1;
}
