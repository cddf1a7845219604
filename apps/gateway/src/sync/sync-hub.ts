/**
 * The gateway's real-time core, shared by both WebSocket endpoints: which local connection uses
 * which doc, forwarding client frames to shard inboxes with retry until acknowledged, routing
 * replies back to the right socket, and fanning broadcasts out to local sockets (each broadcast
 * is framed once per gateway, not per socket).
 */
import type { BroadcastEnvelope, ShardAcquiredEnvelope, WorkspaceEventEnvelope } from '@diaryx-sync/bus';
import { parseTenantKey, tenantKey, workspaceEventJson } from '@diaryx-sync/bus';
import { isDocId, parseDocId, workspaceDocId } from '@diaryx-sync/crdt';
import { CloseCode, encodeFrame, type Role } from '@diaryx-sync/protocol';
import { type DiaryxMetrics, type Logger, observeStageSince } from '@diaryx-sync/runtime';
import type { ClusterLink, DeliveredReplyChannelEnvelope } from './cluster-link';
import { concatParts, FrameBatches, type FrameBatch } from './frame-batches';
import { PendingUpdates } from './pending-updates';
import type { SyncSettings } from './sync-config';

/** Gateway metric handles of the shared catalogue. */
export type GatewayMetrics = DiaryxMetrics['gateway'];

/** A doc in use by a connection. */
export interface DocRef {
  readonly tenant: string;
  readonly docId: string;
  readonly workspaceId: string;
  readonly shard: number;
  /** `tenant\0docId`. */
  readonly key: string;
}

/** What the hub needs from a connection (implemented by both endpoints). */
export interface HubConnection {
  readonly id: string;
  readonly tenant: string;
  readonly endpoint: 'sync2' | 'yjs';
  /** The token's `sub`, stored with every update the connection sends. */
  readonly userId: string;
  /** The token's `device_name` claim, or null. */
  readonly deviceName: string | null;
  /** The share link the connection's token was issued for (`share` claim), null for ordinary tokens. */
  readonly shareId: string | null;
  /** Payloads answering one of this connection's frames (send each as one y-protocols message). */
  deliverReply(
    docId: string,
    payloads: Uint8Array[],
    readOnlyViolation: boolean,
    syncComplete: number | null,
  ): void;
  /** A broadcast for a doc it uses: `framed` for /sync2 (`[len][docId][payload]`), `payload` for /yjs. */
  deliverBroadcast(docId: string, framed: () => Uint8Array, payload: Uint8Array): void;
  /** A workspace event as its JSON text (sync2 only). */
  deliverText(text: string): void;
  /** Closes the socket with `code` (idempotent). */
  close(code: number, reason: string): void;
  /**
   * A shard got a new owner: start a sync exchange for every doc of that shard the connection
   * uses, so that broadcasts lost in the takeover are repaired (docs/architecture.md#properties, property 3).
   */
  resyncShard(shard: number): void;
}

/** A doc some local connection uses: one {@link DocRef} shared by all of them. */
interface DocEntry {
  readonly ref: DocRef;
  readonly subscribers: Set<HubConnection>;
  /** Client frames since the last heartbeat (`busiest_docs`). */
  frames: number;
}

/** One row of the heartbeat's `busiest_docs`. */
export interface BusyDoc {
  tenant: string;
  doc: string;
  subscribers: number;
  frames: number;
}

const SOON_MS = 250;
/** A frame joins a batch while the batch's payloads stay within this (`frame-batches.ts`). */
const FRAME_BATCH_MAX_BYTES = 64 * 1024;
// Yjs merges the changes of a batch into one update, and merging slows down per update past a few hundred
const FRAME_BATCH_MAX_FRAMES = 256;

/** Frames of one connection and doc gathered in one turn (`frame-batches.ts`). */
interface OpenFrame extends FrameBatch {
  /** Connection id and doc key. */
  readonly key: string;
  readonly seq: number;
  readonly conn: HubConnection;
  readonly role: Role;
  readonly doc: DocRef;
  /** Gateway receive time of the first frame (ms). */
  readonly receivedAt: number;
  encoded: Buffer | undefined;
}

/** See module doc. */
export class SyncHub {
  readonly pending: PendingUpdates<HubConnection>;
  private readonly connections = new Map<string, HubConnection>();
  /** Docs in use by local connections, by `tenant\0docId`. */
  private readonly docs = new Map<string, DocEntry>();
  private readonly workspaceSubscribers = new Map<string, Set<HubConnection>>();
  private readonly saveWaiters = new Map<number, { conn: HubConnection; resolve: () => void }>();
  /** Frames the gateway sent on a client's behalf to repair gaps (their `sync_complete` is dropped). */
  private readonly resyncSeqs = new Map<number, HubConnection>();
  private readonly timer: NodeJS.Timeout;
  private nextConn = 1;
  private readonly frameBatches: FrameBatches<OpenFrame>;
  private stopped = false;
  private readonly metrics: GatewayMetrics;

  constructor(
    private readonly link: ClusterLink,
    readonly gatewayId: string,
    private readonly settings: SyncSettings,
    private readonly allMetrics: DiaryxMetrics,
    private readonly logger: Logger,
  ) {
    this.metrics = allMetrics.gateway;
    this.frameBatches = new FrameBatches<OpenFrame>(
      { maxBytes: FRAME_BATCH_MAX_BYTES, maxFrames: FRAME_BATCH_MAX_FRAMES },
      (batch) => void this.publish(batch.seq, batch.doc.shard, this.frameEnvelope(batch)),
    );
    this.pending = new PendingUpdates<HubConnection>(settings.ackRetryMs, settings.ackGiveUpMs, {
      onGiveUp: (conn) => {
        this.metrics.resyncs.inc();
        this.logger.warn({ conn: conn.id }, 'no shard acknowledged in time: closing client so it resyncs');
        conn.close(CloseCode.Overloaded, 'document temporarily unavailable');
      },
    });
    this.timer = setInterval(() => {
      const resent = this.pending.tick();
      if (resent > 0) this.metrics.forwardRetries.inc(resent);
    }, SOON_MS);
    this.timer.unref();
  }

  /** A new connection id, unique within this gateway. */
  newConnectionId(): string {
    return `c${this.nextConn++}`;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Every open connection (for drain). */
  allConnections(): HubConnection[] {
    return [...this.connections.values()];
  }

  register(conn: HubConnection): void {
    this.connections.set(conn.id, conn);
  }

  /** The {@link DocRef} of a doc of `tenant` (the one every local subscriber shares, if any). */
  docRef(tenant: string, docId: string, workspaceId: string): DocRef {
    const key = tenantKey(tenant, docId);
    const known = this.docs.get(key)?.ref;
    if (known) return known;
    return {
      tenant,
      docId,
      workspaceId,
      shard: this.link.shardOf(tenant, docId),
      key,
    };
  }

  /** Subscribes `conn` to a doc's broadcasts; resolves once the channel subscription is active. */
  async subscribeDoc(conn: HubConnection, doc: DocRef): Promise<void> {
    let entry = this.docs.get(doc.key);
    if (!entry) {
      entry = { ref: doc, subscribers: new Set(), frames: 0 };
      this.docs.set(doc.key, entry);
      this.metrics.docsSubscribed.set(this.docs.size);
    }
    entry.subscribers.add(conn);
    await this.link.retainDoc(doc.tenant, doc.docId);
  }

  /** Undoes {@link subscribeDoc}. */
  unsubscribeDoc(conn: HubConnection, doc: DocRef): void {
    const entry = this.docs.get(doc.key);
    if (!entry?.subscribers.delete(conn)) return;
    if (entry.subscribers.size === 0) {
      this.docs.delete(doc.key);
      this.metrics.docsSubscribed.set(this.docs.size);
    }
    this.link.releaseDoc(doc.tenant, doc.docId);
  }

  /** Subscribes a /sync2 connection to a workspace's presence/focus events. */
  async subscribeWorkspace(conn: HubConnection, tenant: string, workspaceId: string): Promise<void> {
    const key = tenantKey(tenant, workspaceId);
    let subs = this.workspaceSubscribers.get(key);
    if (!subs) this.workspaceSubscribers.set(key, (subs = new Set()));
    subs.add(conn);
    await this.link.retainWorkspace(tenant, workspaceId);
  }

  /** Undoes {@link subscribeWorkspace}. */
  unsubscribeWorkspace(conn: HubConnection, tenant: string, workspaceId: string): void {
    const key = tenantKey(tenant, workspaceId);
    const subs = this.workspaceSubscribers.get(key);
    if (!subs?.delete(conn)) return;
    if (subs.size === 0) this.workspaceSubscribers.delete(key);
    this.link.releaseWorkspace(tenant, workspaceId);
  }

  /**
   * Publishes one client frame (y-protocols payload for `doc`) to the doc's shard and keeps it
   * until the owner acknowledges it. Frames carrying changes from a writer that arrive in the same
   * event-loop turn for the same doc share one envelope (`frame-batches.ts`).
   */
  forwardFrame(
    conn: HubConnection,
    role: Role,
    doc: DocRef,
    payload: Uint8Array,
    carriesChanges: boolean,
    resync = false,
  ): void {
    const entry = this.docs.get(doc.key);
    if (entry) entry.frames++;
    const batchable = carriesChanges && !resync && role !== 'viewer';
    const key = `${conn.id}\u0000${doc.key}`;
    if (batchable && this.frameBatches.tryAppend(key, payload)) return;
    const seq = this.pending.allocateSeq();
    const batch: OpenFrame = {
      key,
      parts: [payload],
      bytes: payload.length,
      seq,
      conn,
      role,
      doc,
      receivedAt: Date.now(),
      encoded: undefined,
    };
    if (resync) this.resyncSeqs.set(seq, conn);
    const send = () => void this.publish(seq, doc.shard, this.frameEnvelope(batch));
    this.pending.add(seq, conn, doc.shard, doc.key, send, carriesChanges);
    if (batchable) {
      this.frameBatches.start(key, batch);
    } else {
      // nothing of this connection for the doc may overtake what is still gathering
      this.frameBatches.sealKey(key);
      send();
    }
  }

  /** The `frame` envelope of a batch, encoded (copied) once when first sent; re-sends reuse the bytes. */
  private frameEnvelope(batch: OpenFrame): Buffer {
    if (batch.encoded) return batch.encoded;
    // from now on the bytes are fixed: later frames go into a new batch
    this.frameBatches.detach(batch.key, batch);
    batch.encoded = this.link.encode({
      type: 'frame',
      msgId: String(batch.seq),
      gatewayId: this.gatewayId,
      connId: batch.conn.id,
      tenant: batch.doc.tenant,
      role: batch.role,
      docId: batch.doc.docId,
      payload: concatParts(batch.parts, batch.bytes),
      receivedAt: batch.receivedAt,
      userId: batch.conn.userId,
      ...(batch.conn.deviceName === null ? {} : { deviceName: batch.conn.deviceName }),
    });
    // the envelope holds a copy: release the socket's buffers while the frame awaits its ack
    batch.parts.length = 0;
    return batch.encoded;
  }

  /**
   * The `save` barrier: resolves once everything `conn` sent for `doc` before is durable (every
   * earlier frame acknowledged, then the shard's `saved`).
   */
  async save(conn: HubConnection, doc: DocRef): Promise<void> {
    this.frameBatches.sealAll();
    await this.pending.barrier(conn, doc.key);
    const seq = this.pending.allocateSeq();
    const bytes = this.link.encode({
      type: 'save',
      msgId: String(seq),
      gatewayId: this.gatewayId,
      connId: conn.id,
      tenant: doc.tenant,
      docId: doc.docId,
    });
    const done = new Promise<void>((resolve) => this.saveWaiters.set(seq, { conn, resolve }));
    const send = () => void this.publish(seq, doc.shard, bytes);
    this.pending.add(seq, conn, doc.shard, doc.key, send);
    send();
    await done;
  }

  /** Tells the doc's shard that `conn` left `doc` (`leave`) or closed (`disconnect`). */
  notifyGone(kind: 'leave' | 'disconnect', conn: HubConnection, doc: DocRef): void {
    this.frameBatches.sealAll();
    this.publishIdempotent({
      type: kind,
      gatewayId: this.gatewayId,
      connId: conn.id,
      tenant: doc.tenant,
      docId: doc.docId,
    });
  }

  /** Sends `conn`'s complete focus set (paths) of a workspace to the workspace doc's shard. */
  sendFocus(conn: HubConnection, tenant: string, workspaceId: string, files: string[]): void {
    this.frameBatches.sealAll();
    this.publishIdempotent({
      type: 'focus',
      gatewayId: this.gatewayId,
      connId: conn.id,
      tenant,
      docId: workspaceDocId(workspaceId),
      files,
    });
  }

  /** Forgets a closed connection (its subscriptions must already be released). */
  unregister(conn: HubConnection): void {
    this.connections.delete(conn.id);
    for (const [seq, c] of this.resyncSeqs) if (c === conn) this.resyncSeqs.delete(seq);
    // A save that can no longer be answered: forget it (the socket is gone).
    for (const [seq, w] of this.saveWaiters) if (w.conn === conn) this.saveWaiters.delete(seq);
    this.pending.dropConnection(conn);
  }

  /** Replies, `saved` and errors for this gateway's connections. */
  onReplyChannel(env: DeliveredReplyChannelEnvelope): void {
    if (env.type === 'applied') return;
    const seq = Number(env.msgId);
    const entry = this.pending.get(seq);
    if (!entry) return; // a duplicate answer to a re-sent frame, or the connection is gone
    const conn = entry.conn;
    switch (env.type) {
      case 'reply': {
        const resync = this.resyncSeqs.has(seq);
        conn.deliverReply(env.docId, env.payloads, env.readOnlyViolation, resync ? null : env.syncComplete);
        if (env.ack) {
          this.pending.ack(seq);
          this.resyncSeqs.delete(seq);
        }
        return;
      }
      case 'saved': {
        this.pending.ack(seq);
        const waiter = this.saveWaiters.get(seq);
        this.saveWaiters.delete(seq);
        waiter?.resolve();
        return;
      }
      case 'error':
        if (env.code === 'bad_payload') {
          this.pending.ack(seq);
          conn.close(CloseCode.ProtocolError, truncate(`bad payload: ${env.message}`));
        } else if (env.code === 'not_found') {
          this.pending.ack(seq);
          conn.close(CloseCode.Forbidden, 'forbidden');
        } else {
          this.pending.retrySoon(seq, SOON_MS);
        }
        return;
    }
  }

  /**
   * A workspace was deleted: closes every local connection using one of its docs or watching its
   * presence with 4403 (docs/workspace-deletion.md). Returns how many were closed.
   */
  closeWorkspace(tenant: string, workspaceId: string): number {
    const doomed = new Set<HubConnection>();
    for (const [key, { subscribers }] of this.docs) {
      const { tenant: owner, id: docId } = parseTenantKey(key);
      if (owner !== tenant) continue;
      if (!isDocId(docId) || parseDocId(docId).workspaceId !== workspaceId) continue;
      for (const conn of subscribers) doomed.add(conn);
    }
    for (const conn of this.workspaceSubscribers.get(tenantKey(tenant, workspaceId)) ?? []) doomed.add(conn);
    for (const conn of doomed) conn.close(CloseCode.Forbidden, 'workspace deleted');
    if (doomed.size > 0) this.logger.info({ tenant, workspaceId, closed: doomed.size }, 'workspace deleted');
    return doomed.size;
  }

  /**
   * A share link was revoked: closes every local connection whose token was issued for it with
   * 4403 (docs/protocol.md#share-links). Returns how many were closed.
   */
  closeShare(tenant: string, shareId: string): number {
    const doomed = [...this.connections.values()].filter((c) => c.tenant === tenant && c.shareId === shareId);
    for (const conn of doomed) conn.close(CloseCode.Forbidden, 'share revoked');
    if (doomed.length > 0) this.logger.info({ tenant, shareId, closed: doomed.length }, 'share revoked');
    return doomed.length;
  }

  /** Fan-out of a doc broadcast to the local sockets using the doc, except its origin. */
  onBroadcast(env: BroadcastEnvelope): void {
    const subs = this.docs.get(tenantKey(env.tenant, env.docId))?.subscribers;
    if (!subs) return;
    let framed: Uint8Array | undefined;
    const frame = () => (framed ??= encodeFrame(env.docId, env.payload));
    const fromHere = env.originGatewayId === this.gatewayId;
    for (const conn of subs) {
      if (fromHere && conn.id === env.originConnId) continue;
      conn.deliverBroadcast(env.docId, frame, env.payload);
    }
    if (env.receivedAt !== undefined && subs.size > 0)
      observeStageSince(this.allMetrics, 'delivered', env.receivedAt);
  }

  /** Presence/focus events to the /sync2 connections of that workspace. */
  onWorkspaceEvent(env: WorkspaceEventEnvelope): void {
    const subs = this.workspaceSubscribers.get(tenantKey(env.tenant, env.event.workspace));
    if (!subs) return;
    const text = workspaceEventJson(env.event);
    for (const conn of subs) conn.deliverText(text);
  }

  /** A shard has a (new) owner: re-send what it has not acknowledged. */
  onShardAcquired(env: ShardAcquiredEnvelope): void {
    const resent = this.pending.resendShard(env.shard);
    if (resent > 0) this.metrics.forwardRetries.inc(resent);
    for (const conn of this.connections.values()) conn.resyncShard(env.shard);
  }

  /**
   * The bus subscriptions came back after a Redis failover, slot move or reconnect: broadcasts of
   * that window may be lost, so every connection runs a full SyncStep1 round on every doc it uses
   * (docs/redis.md), and unacknowledged frames are re-sent now.
   */
  onResubscribed(): void {
    for (let shard = 0; shard < this.link.shardCount; shard++) {
      const resent = this.pending.resendShard(shard);
      if (resent > 0) this.metrics.forwardRetries.inc(resent);
      for (const conn of this.connections.values()) conn.resyncShard(shard);
    }
  }

  /** Up to `n` docs with the most frames since the last call (then by subscribers); resets counts. */
  takeBusiestDocs(n = 10): BusyDoc[] {
    const rows: BusyDoc[] = [];
    for (const entry of this.docs.values()) {
      rows.push({
        tenant: entry.ref.tenant,
        doc: entry.ref.docId,
        subscribers: entry.subscribers.size,
        frames: entry.frames,
      });
      entry.frames = 0;
    }
    rows.sort((a, b) => b.frames - a.frames || b.subscribers - a.subscribers);
    return rows.slice(0, n);
  }

  /** Stops the retry timer. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  /**
   * Publishes an unacknowledged, idempotent envelope (leave, disconnect, focus); while no owner
   * listens on the inbox (shard moving), re-publishes every 250 ms up to the give-up bound.
   */
  private publishIdempotent(env: Parameters<ClusterLink['encode']>[0]): void {
    const shard = this.link.shardOf(env.tenant, env.docId);
    const bytes = this.link.encode(env);
    const deadline = Date.now() + this.settings.ackGiveUpMs;
    const attempt = async (): Promise<void> => {
      if ((await this.link.publishEncoded(shard, bytes)) > 0 || Date.now() > deadline || this.stopped) return;
      setTimeout(() => void attempt(), SOON_MS).unref();
    };
    void attempt();
  }

  private async publish(seq: number, shard: number, bytes: Buffer): Promise<void> {
    const listeners = await this.link.publishEncoded(shard, bytes);
    if (listeners === 0) this.pending.retrySoon(seq, SOON_MS);
  }
}

function truncate(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}
