/**
 * Redis channel and key names of the cluster. This module is the ONLY place that spells them;
 * every name starts with `${prefix}:` (REDIS_PREFIX) and carries the tenant where data is
 * tenant-scoped (docs/architecture.md#properties, property 5).
 *
 * Hash tags (`{…}`, docs/redis.md): on Redis Cluster only the tagged part picks the slot, so
 * everything one Lua script or MULTI touches shares a tag: a shard's lease, fencing counter and
 * inbox (`{n}`); a workspace's presence hash, focus hash and event channel (`{tenant:workspace}`).
 * A doc channel is tagged by its doc (`{tenant:docId}`) so docs spread over the masters.
 */

/** Kinds of service instances that write heartbeats (docs/architecture.md#heartbeats-and-ports). */
export type InstanceKind = 'gateway' | 'doc-service' | 'history-worker';

/** Pub/sub channel a shard owner subscribes to: gateways publish `frame`/`save`/`leave`/… here. */
export function shardInboxChannel(prefix: string, shard: number): string {
  return `${prefix}:shard:{${shard}}:inbox`;
}

/** Pub/sub channel of one gateway (or `ClusterClient`): shard owners publish `reply`/`saved`/`error`/`applied` here. */
export function gatewayChannel(prefix: string, gatewayId: string): string {
  return `${prefix}:gw:{${gatewayId}}`;
}

/** Pub/sub channel of one document: shard owners publish `broadcast` envelopes here. */
export function docChannel(prefix: string, tenant: string, docId: string): string {
  return `${prefix}:doc:{${tenant}:${docId}}`;
}

/** Pub/sub channel of one workspace: `workspace_event` envelopes (peer_joined/peer_left/focus_list_changed). */
export function workspaceChannel(prefix: string, tenant: string, workspace: string): string {
  return `${prefix}:ws:{${tenant}:${workspace}}`;
}

/**
 * Pub/sub channel announcing deleted workspaces (`workspace_deleted`) and revoked share links
 * (`share_revoked`), cluster-wide: every gateway closes the connections concerned
 * (docs/workspace-deletion.md, docs/protocol.md#share-links).
 */
export function workspaceDeletionsChannel(prefix: string): string {
  return `${prefix}:workspace-deletions`;
}

/** Pub/sub channel announcing shard ownership changes (`shard_acquired`), cluster-wide. */
export function shardEventsChannel(prefix: string): string {
  return `${prefix}:shards`;
}

/** String key holding a shard's lease: value `${instanceId}:${fencingToken}`, PX = lease TTL. */
export function shardLeaseKey(prefix: string, shard: number): string {
  return `${prefix}:shard:{${shard}}:lease`;
}

/** Counter key incremented on every lease acquisition of a shard: the fencing token. */
export function shardFenceKey(prefix: string, shard: number): string {
  return `${prefix}:shard:{${shard}}:fence`;
}

/** Sorted set of live doc-service instances (member = instance id, score = expiry time in ms). */
export function docServiceMembersKey(prefix: string): string {
  return `${prefix}:docsvc:members`;
}

/**
 * Hash of doc-service instance id → its load as JSON `{"shed":k,"delayMs":d}` (event-loop delay,
 * shed step); every instance weighs its shard target by it (docs/fencing.md "Renewal and overload").
 */
export function docServiceLoadKey(prefix: string): string {
  return `${prefix}:docsvc:load`;
}

/** JSON heartbeat of one service instance (TTL ~6 s), see docs/architecture.md#heartbeats-and-ports. */
export function instanceKey(prefix: string, kind: InstanceKind, id: string): string {
  return `${prefix}:instance:${kind}:${id}`;
}

/** Match pattern for all heartbeat keys (of one kind, or of every kind). */
export function instanceKeyPattern(prefix: string, kind?: InstanceKind): string {
  return `${prefix}:instance:${kind ?? '*'}:*`;
}

/**
 * Hash of the connections subscribed to a workspace's workspace doc, cluster-wide.
 * Field `${gatewayId}|${connId}`, value: ms timestamp of the join.
 */
export function workspacePeersKey(prefix: string, tenant: string, workspace: string): string {
  return `${prefix}:presence:{${tenant}:${workspace}}`;
}

/**
 * Hash of the focused files of a workspace's connections. Field `${gatewayId}|${connId}`,
 * value: JSON array of paths (that connection's complete focus set).
 */
export function workspaceFocusKey(prefix: string, tenant: string, workspace: string): string {
  return `${prefix}:focus:{${tenant}:${workspace}}`;
}

/** A large reply payload stored by content (`payload-store.ts`): `digest` = its SHA-256, hex. */
export function payloadKey(prefix: string, tenant: string, digest: string): string {
  return `${prefix}:payload:{${tenant}}:${digest}`;
}

/** Set of `${tenant}\n${workspace}` entries that have presence/focus hashes (for sweeping). */
export function presenceIndexKey(prefix: string): string {
  return `${prefix}:presence-index`;
}

/** Field name used in the presence and focus hashes for one connection. */
export function connectionField(gatewayId: string, connId: string): string {
  return `${gatewayId}|${connId}`;
}

/** Inverse of {@link connectionField} (gateway ids never contain `|`). */
export function parseConnectionField(field: string): { gatewayId: string; connId: string } {
  const i = field.indexOf('|');
  return i < 0
    ? { gatewayId: field, connId: '' }
    : { gatewayId: field.slice(0, i), connId: field.slice(i + 1) };
}

/**
 * In-process key of something a tenant owns (a doc id, a workspace id): `${tenant}\u0000${id}`.
 * Also what {@link shardOf} hashes. NUL never occurs in tenant ids.
 */
export function tenantKey(tenant: string, id: string): string {
  return `${tenant}\u0000${id}`;
}

/** Inverse of {@link tenantKey}. */
export function parseTenantKey(key: string): { tenant: string; id: string } {
  const i = key.indexOf('\u0000');
  return { tenant: key.slice(0, i), id: key.slice(i + 1) };
}
