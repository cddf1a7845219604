/**
 * What both WebSocket endpoints share for one client socket: ordered processing of its messages
 * (authorization of a new doc is asynchronous, later frames wait for it), per-doc authorization
 * and subscription, the update-rate and control-message-rate token buckets (1008), the
 * send-buffer bound (1013), the mid-session token expiry (4401) and clean-up when the socket
 * closes.
 *
 * An idle connection is most of the gateway's connections, so it retains as little as possible
 * (docs/benchmarks.md): socket listeners are functions shared by every socket, the token expiry is
 * one entry of the server's {@link ExpiryQueue}, the token buckets and the task queue exist once
 * used, per-doc state is one record per doc, and a single doc or workspace needs no `Map`.
 */
import {
  CloseCode,
  encodeMessage,
  docIdProtocolError,
  isProtocolError,
  parseClientControl,
  type ProtocolMessage,
  type Role,
} from '@diaryx-sync/protocol';
import { DocIdError, parseDocId, type ParsedDocId } from '@diaryx-sync/crdt';
import type { Logger } from '@diaryx-sync/runtime';
import type WebSocket from 'ws';
import type { TokenClaims } from '../auth/token-claims';
import { BoundedSocket } from './bounded-socket';
import { CompactMap } from './compact-map';
import type { DocAuthorizer } from './doc-authorizer';
import type { Expiring, ExpiryQueue } from './expiry-queue';
import type { GatewaySocket } from './gateway-socket';
import type { DocRef, GatewayMetrics, HubConnection, SyncHub } from './sync-hub';
import type { SyncSettings } from './sync-config';
import type { TenantRates } from './tenant-rates';
import { TokenBucket } from './token-bucket';

/** Services a connection uses. */
export interface ConnectionContext {
  hub: SyncHub;
  authorizer: DocAuthorizer;
  /** Per-tenant update-rate buckets shared by every connection of this gateway. */
  tenantRates: TenantRates;
  settings: SyncSettings;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Token expiry of every connection (one timer for all); expired ones are closed with 4401. */
  expiries: ExpiryQueue<ClientConnection>;
  /** Counts a send-buffer overflow (one function for every socket). */
  onSlowConsumer(): void;
  /** Called once after the socket closed and the connection released everything. */
  onClosed(conn: ClientConnection): void;
}

/** What a connection keeps per doc it uses. */
export interface DocUse {
  readonly ref: DocRef;
  /**
   * The client's latest SyncStep1 state vector, for gap repair after a takeover, as a latin1
   * string (a short one-byte string costs ~20 bytes of heap, a copied `Uint8Array` ~200).
   */
  stateVector: string | undefined;
  /** The client got this (workspace) doc's `sync_complete` (/sync2: only after the first SyncStep1). */
  syncCompleted: boolean;
}

/** Where a workspace stands for a connection: authorized, or also watched for presence (/sync2). */
type WorkspaceUse = 'authorized' | 'subscribed';

type Task = () => void | Promise<void>;

/** Thrown inside message handling to close the connection with a code. */
export class CloseConnection extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** See module doc. Subclasses implement the endpoint's message format. */
export abstract class ClientConnection implements HubConnection, Expiring {
  abstract readonly endpoint: 'sync2' | 'yjs';
  readonly id: string;
  readonly tenant: string;
  readonly role: Role;
  readonly shareId: string | null;
  readonly userId: string;
  readonly deviceName: string | null;
  /** When the token expires (ms): the connection is closed with 4401 then. */
  readonly expiresAt: number;
  /** Position in `ctx.expiries` (maintained by the queue). */
  expiryIndex = -1;
  protected readonly out: BoundedSocket;
  /** Docs this connection is subscribed to, by doc id. */
  protected readonly docs = new CompactMap<string, DocUse>();
  /** Workspaces already authorized for this connection (and whether it watches their presence). */
  private readonly workspaceUses = new CompactMap<string, WorkspaceUse>();
  /** Messages waiting for the earlier ones (exists while some are queued). */
  private tasks: Task[] | undefined;
  private running = false;
  /** Update-rate bucket; created on first use (a fresh bucket is full, like an unused one). */
  private bucket: TokenBucket | undefined;
  /** Text (JSON control) frames: rate-limited like binary ones (docs/limits.md). Created on first use. */
  private controlBucket: TokenBucket | undefined;
  /** Doc ids in focus/unfocus messages (docs/limits.md). Created on first use. */
  private focusBucket: TokenBucket | undefined;
  private closedHandled = false;
  /** Liveness flag for the server's WebSocket ping. */
  alive = true;

  constructor(
    readonly socket: GatewaySocket<ClientConnection>,
    readonly claims: TokenClaims,
    protected readonly ctx: ConnectionContext,
  ) {
    this.id = ctx.hub.newConnectionId();
    this.tenant = claims.tid;
    this.role = claims.role;
    this.shareId = claims.share ?? null;
    this.userId = claims.sub;
    this.deviceName = claims.device_name ?? null;
    this.expiresAt = claims.exp * 1000;
    this.out = new BoundedSocket(socket, ctx.settings.maxBufferedBytes, ctx.onSlowConsumer);
    socket.owner = this;
    socket.on('message', ClientConnection.onSocketMessage);
    socket.on('pong', ClientConnection.onSocketPong);
    socket.on('error', ClientConnection.onSocketError);
    socket.on('close', ClientConnection.onSocketClose);
    if (this.expiresAt <= Date.now()) this.close(CloseCode.Unauthorized, 'token expired');
    else ctx.expiries.add(this);
    ctx.hub.register(this);
  }

  // Socket listeners shared by every socket (`this` is the socket; a closure per socket costs heap).
  private static onSocketMessage(this: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    ClientConnection.ownerOf(this)?.onMessage(data, isBinary);
  }

  private static onSocketPong(this: WebSocket): void {
    const conn = ClientConnection.ownerOf(this);
    if (conn) conn.alive = true;
  }

  private static onSocketError(this: WebSocket, err: Error): void {
    const conn = ClientConnection.ownerOf(this);
    conn?.ctx.logger.debug({ conn: conn.id, err: err.message }, 'socket error');
  }

  private static onSocketClose(this: WebSocket, code: number): void {
    const conn = ClientConnection.ownerOf(this);
    if (!conn) return;
    conn.ctx.metrics.closes.inc({ code: String(code) });
    conn.handleClosed();
  }

  private static ownerOf(socket: WebSocket): ClientConnection | undefined {
    return (socket as GatewaySocket<ClientConnection>).owner;
  }

  /** True once the socket closed and the connection released its subscriptions. */
  protected get released(): boolean {
    return this.closedHandled;
  }

  /** True once the connection is closing or closed. */
  get isClosed(): boolean {
    return this.out.isClosed;
  }

  abstract deliverReply(
    docId: string,
    payloads: Uint8Array[],
    readOnlyViolation: boolean,
    syncComplete: number | null,
  ): void;
  abstract deliverBroadcast(docId: string, framed: () => Uint8Array, payload: Uint8Array): void;
  abstract deliverText(text: string): void;

  /** Handles one binary message (runs in order with the others). */
  protected abstract handleBinary(data: Buffer): void | Promise<void>;
  /** Handles one text message (runs in order with the others). */
  protected abstract handleText(text: string): void | Promise<void>;

  /** Closes the socket (idempotent). */
  close(code: number, reason: string): void {
    this.out.close(code, reason);
  }

  /** Runs `task` after every earlier message of this connection was handled. */
  protected enqueue(task: Task): void {
    (this.tasks ??= []).push(task);
    if (!this.running) void this.drainTasks();
  }

  /**
   * The subscribed {@link DocRef} of `docId`, authorizing and subscribing on first use.
   * @throws CloseConnection 4403 when the token may not use the doc's workspace.
   */
  protected async useDoc(docId: string, parsed: ParsedDocId): Promise<DocRef> {
    const known = this.docs.get(docId);
    if (known) return known.ref;
    await this.authorizeWorkspace(parsed.workspaceId);
    // The socket may have closed while we waited: take nothing more (clean-up already ran).
    if (this.released) throw new CloseConnection(CloseCode.GoingAway, 'connection closed');
    const doc = this.ctx.hub.docRef(this.tenant, docId, parsed.workspaceId);
    this.docs.set(docId, { ref: doc, stateVector: undefined, syncCompleted: false });
    await this.ctx.hub.subscribeDoc(this, doc);
    await this.onFirstUse(doc);
    return doc;
  }

  /** Hook: a doc was authorized and subscribed for the first time. */
  protected onFirstUse(_doc: DocRef): void | Promise<void> {
    return undefined;
  }

  /**
   * Makes sure the token may use `workspaceId` (covered by `ws` and existing in its tenant).
   * @throws CloseConnection 4403 otherwise.
   */
  protected async authorizeWorkspace(workspaceId: string): Promise<void> {
    if (this.workspaceUses.has(workspaceId)) return;
    if (!(await this.ctx.authorizer.mayUseWorkspace(this.claims, workspaceId))) {
      this.ctx.metrics.authFailures.inc({ reason: 'forbidden_doc' });
      throw new CloseConnection(CloseCode.Forbidden, 'forbidden');
    }
    if (!this.workspaceUses.has(workspaceId)) this.workspaceUses.set(workspaceId, 'authorized');
  }

  /**
   * Marks an authorized workspace as watched for presence/focus events; false when it already was.
   */
  protected markWorkspaceSubscribed(workspaceId: string): boolean {
    if (this.workspaceUses.get(workspaceId) === 'subscribed') return false;
    this.workspaceUses.set(workspaceId, 'subscribed');
    return true;
  }

  /** Workspaces watched for presence/focus events (see {@link markWorkspaceSubscribed}). */
  protected *subscribedWorkspaces(): IterableIterator<string> {
    for (const [ws, use] of this.workspaceUses) if (use === 'subscribed') yield ws;
  }

  /** Parses a doc id; a malformed one is a protocol error (4400). */
  protected parseDoc(docId: string): ParsedDocId {
    try {
      return parseDocId(docId);
    } catch (err) {
      if (err instanceof DocIdError) throw docIdProtocolError(err);
      throw err;
    }
  }

  /**
   * Sends a y-protocols payload to the shard of `doc`, with retry until acknowledged.
   * `carriesChanges`: it holds a SyncStep2 or Update (drain waits for those).
   */
  protected forward(doc: DocRef, payload: Uint8Array, carriesChanges: boolean): void {
    this.ctx.hub.forwardFrame(this, this.role, doc, payload, carriesChanges);
  }

  /**
   * Charges the connection's and the tenant's update-rate token buckets for a frame carrying
   * changes or awareness (SyncStep1 requests are not counted: a client opening a big workspace
   * sends one per file).
   * @throws CloseConnection 1008 when the rate is exceeded.
   */
  protected chargeRate(messages: ProtocolMessage[]): void {
    if (!messages.some((m) => m.type !== 'syncStep1')) return;
    if (!this.updateBucket().take()) {
      this.ctx.metrics.framesDropped.inc({ reason: 'rate_limited' });
      throw new CloseConnection(CloseCode.RateLimited, 'update rate limit exceeded');
    }
    if (!this.ctx.tenantRates.take(this.tenant)) {
      this.ctx.metrics.framesDropped.inc({ reason: 'tenant_rate_limited' });
      throw new CloseConnection(CloseCode.RateLimited, 'tenant update rate limit exceeded');
    }
  }

  /**
   * Charges the focus-rate bucket for `docIds` doc ids of a focus/unfocus message.
   * @throws CloseConnection 1008 when the rate is exceeded.
   */
  protected chargeFocus(docIds: number): void {
    this.focusBucket ??= new TokenBucket(this.ctx.settings.focusRatePerSecond, this.ctx.settings.focusBurst);
    if (this.focusBucket.take(docIds)) return;
    this.ctx.metrics.framesDropped.inc({ reason: 'focus_rate_limited' });
    throw new CloseConnection(CloseCode.RateLimited, 'focus rate limit exceeded');
  }

  /** Remembers the client's latest SyncStep1 state vector for `docId` (copied). */
  protected noteMessages(docId: string, messages: ProtocolMessage[]): void {
    const use = this.docs.get(docId);
    if (!use) return;
    for (const m of messages)
      if (m.type === 'syncStep1') use.stateVector = Buffer.from(m.stateVector).toString('latin1');
  }

  /**
   * Sends, on the client's behalf, a SyncStep1 with its last known state vector for every doc of
   * `shard`: the new owner answers with what the client may have missed (an older state vector
   * only makes the answer larger) and with its own SyncStep1, which the client answers with
   * what the server lacks.
   */
  resyncShard(shard: number): void {
    if (this.isClosed) return;
    for (const { ref: doc, stateVector: known } of this.docs.values()) {
      if (doc.shard !== shard) continue;
      const stateVector = known === undefined ? new Uint8Array([0]) : Buffer.from(known, 'latin1');
      this.ctx.hub.forwardFrame(
        this,
        this.role,
        doc,
        encodeMessage({ type: 'syncStep1', stateVector }),
        false,
        true,
      );
    }
  }

  /** Releases everything the connection holds; runs once after close. */
  protected releaseAll(): void {
    for (const { ref } of this.docs.values()) {
      this.ctx.hub.unsubscribeDoc(this, ref);
      this.ctx.hub.notifyGone('disconnect', this, ref);
    }
    this.docs.clear();
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.isClosed) return;
    const bytes = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    this.ctx.metrics.bytesReceived.inc(bytes.length);
    if (isBinary) {
      this.enqueue(() => this.handleBinary(bytes));
    } else {
      if (bytes.length > this.ctx.settings.maxControlBytes) {
        this.ctx.metrics.framesDropped.inc({ reason: 'too_large' });
        this.close(CloseCode.FrameTooLarge, 'control message too large');
        return;
      }
      this.controlBucket ??= new TokenBucket(
        this.ctx.settings.controlRatePerSecond,
        this.ctx.settings.controlBurst,
      );
      if (!this.controlBucket.take() && !this.takeDocActionRate(bytes)) {
        this.ctx.metrics.framesDropped.inc({ reason: 'control_rate_limited' });
        this.close(CloseCode.RateLimited, 'control message rate limit exceeded');
        return;
      }
      this.enqueue(() => this.handleText(bytes.toString('utf8')));
    }
  }

  /**
   * A `save` or `leave` over the control-message rate is charged like a frame for its doc (the
   * update-rate buckets): a client saving every file of a big workspace sends one per file
   * (docs/limits.md#control-messages-and-focus). Parsed only once the control bucket is empty.
   */
  private takeDocActionRate(bytes: Buffer): boolean {
    const parsed = parseClientControl(bytes);
    if (!parsed.ok || !('action' in parsed.message)) return false;
    return this.updateBucket().take() && this.ctx.tenantRates.take(this.tenant);
  }

  private updateBucket(): TokenBucket {
    return (this.bucket ??= new TokenBucket(
      this.ctx.settings.updateRatePerSecond,
      this.ctx.settings.updateBurst,
    ));
  }

  private async drainTasks(): Promise<void> {
    this.running = true;
    try {
      for (let task = this.tasks?.shift(); task; task = this.tasks?.shift()) {
        if (this.isClosed) continue;
        try {
          const r = task();
          if (r) await r;
        } catch (err) {
          this.fail(err);
        }
      }
    } finally {
      this.running = false;
      this.tasks = undefined; // empty here: an idle connection keeps no queue
    }
  }

  /** Maps an error of message handling to a close code. */
  protected fail(err: unknown): void {
    if (err instanceof CloseConnection) {
      this.close(err.code, err.reason);
    } else if (isProtocolError(err)) {
      this.ctx.metrics.framesDropped.inc({
        reason: err.closeCode === CloseCode.FrameTooLarge ? 'too_large' : 'malformed',
      });
      this.close(err.closeCode, err.reason);
    } else {
      this.ctx.logger.error(
        { conn: this.id, err: (err as Error)?.stack },
        'unexpected error handling a message',
      );
      this.close(CloseCode.Overloaded, 'internal error');
    }
  }

  private handleClosed(): void {
    if (this.closedHandled) return;
    this.closedHandled = true;
    this.out.close(1000); // marks the wrapper closed; no-op on a closed socket
    this.ctx.expiries.remove(this);
    this.tasks = undefined;
    this.releaseAll();
    this.ctx.hub.unregister(this);
    this.ctx.onClosed(this);
  }
}
