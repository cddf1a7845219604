/**
 * What both WebSocket endpoints share for one client socket: ordered processing of its messages
 * (authorization of a new doc is asynchronous, later frames wait for it), per-doc authorization
 * and subscription, the update-rate and control-message-rate token buckets (1008), the
 * send-buffer bound (1013), the mid-session token expiry (4401) and clean-up when the socket
 * closes.
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
import type { DocAuthorizer } from './doc-authorizer';
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
  /** Called once after the socket closed and the connection released everything. */
  onClosed(conn: ClientConnection): void;
}

/** Thrown inside message handling to close the connection with a code. */
export class CloseConnection extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** See module doc. Subclasses implement the endpoint's message format. */
export abstract class ClientConnection implements HubConnection {
  abstract readonly endpoint: 'sync2' | 'yjs';
  readonly id: string;
  readonly tenant: string;
  readonly role: Role;
  readonly shareId: string | null;
  readonly userId: string;
  readonly deviceName: string | null;
  protected readonly out: BoundedSocket;
  /** Docs this connection is subscribed to, by doc id. */
  protected readonly docs = new Map<string, DocRef>();
  /** Latest state vector the client sent per doc (SyncStep1), for gap repair after a takeover. */
  private readonly stateVectors = new Map<string, Uint8Array>();
  /** Workspaces already authorized for this connection. */
  private readonly allowedWorkspaces = new Set<string>();
  private readonly tasks: (() => void | Promise<void>)[] = [];
  private running = false;
  private readonly bucket: TokenBucket;
  /** Text (JSON control) frames: rate-limited like binary ones (docs/limits.md). */
  private readonly controlBucket: TokenBucket;
  /** Doc ids in focus/unfocus messages (docs/limits.md). */
  private readonly focusBucket: TokenBucket;
  private expiryTimer: NodeJS.Timeout | undefined;
  private closedHandled = false;
  /** Liveness flag for the server's WebSocket ping. */
  alive = true;

  constructor(
    readonly socket: WebSocket,
    readonly claims: TokenClaims,
    protected readonly ctx: ConnectionContext,
  ) {
    this.id = ctx.hub.newConnectionId();
    this.tenant = claims.tid;
    this.role = claims.role;
    this.shareId = claims.share ?? null;
    this.userId = claims.sub;
    this.deviceName = claims.device_name ?? null;
    this.bucket = new TokenBucket(ctx.settings.updateRatePerSecond, ctx.settings.updateBurst);
    this.controlBucket = new TokenBucket(ctx.settings.controlRatePerSecond, ctx.settings.controlBurst);
    this.focusBucket = new TokenBucket(ctx.settings.focusRatePerSecond, ctx.settings.focusBurst);
    this.out = new BoundedSocket(socket, ctx.settings.maxBufferedBytes, () =>
      ctx.metrics.framesDropped.inc({ reason: 'slow_consumer' }),
    );
    socket.on('message', (data: WebSocket.RawData, isBinary: boolean) => this.onMessage(data, isBinary));
    socket.on('pong', () => (this.alive = true));
    socket.on('error', (err: Error) => ctx.logger.debug({ conn: this.id, err: err.message }, 'socket error'));
    socket.on('close', (code: number) => {
      ctx.metrics.closes.inc({ code: String(code) });
      this.handleClosed();
    });
    this.scheduleExpiry();
    ctx.hub.register(this);
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
  protected enqueue(task: () => void | Promise<void>): void {
    this.tasks.push(task);
    if (!this.running) void this.drainTasks();
  }

  /**
   * The subscribed {@link DocRef} of `docId`, authorizing and subscribing on first use.
   * @throws CloseConnection 4403 when the token may not use the doc's workspace.
   */
  protected async useDoc(docId: string, parsed: ParsedDocId): Promise<DocRef> {
    const known = this.docs.get(docId);
    if (known) return known;
    await this.authorizeWorkspace(parsed.workspaceId);
    // The socket may have closed while we waited: take nothing more (clean-up already ran).
    if (this.released) throw new CloseConnection(CloseCode.GoingAway, 'connection closed');
    const doc = this.ctx.hub.docRef(this.tenant, docId, parsed.workspaceId);
    this.docs.set(docId, doc);
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
    if (this.allowedWorkspaces.has(workspaceId)) return;
    if (!(await this.ctx.authorizer.mayUseWorkspace(this.claims, workspaceId))) {
      this.ctx.metrics.authFailures.inc({ reason: 'forbidden_doc' });
      throw new CloseConnection(CloseCode.Forbidden, 'forbidden');
    }
    this.allowedWorkspaces.add(workspaceId);
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

  /** Forgets the state vector of a doc the client left. */
  protected forgetStateVector(docId: string): void {
    this.stateVectors.delete(docId);
  }

  /**
   * Charges the connection's and the tenant's update-rate token buckets for a frame carrying
   * changes or awareness (SyncStep1 requests are not counted: a client opening a big workspace
   * sends one per file).
   * @throws CloseConnection 1008 when the rate is exceeded.
   */
  protected chargeRate(messages: ProtocolMessage[]): void {
    if (!messages.some((m) => m.type !== 'syncStep1')) return;
    if (!this.bucket.take()) {
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
    if (this.focusBucket.take(docIds)) return;
    this.ctx.metrics.framesDropped.inc({ reason: 'focus_rate_limited' });
    throw new CloseConnection(CloseCode.RateLimited, 'focus rate limit exceeded');
  }

  /** Remembers the client's latest SyncStep1 state vector for `docId` (copied). */
  protected noteMessages(docId: string, messages: ProtocolMessage[]): void {
    for (const m of messages)
      if (m.type === 'syncStep1') this.stateVectors.set(docId, Uint8Array.from(m.stateVector));
  }

  /**
   * Sends, on the client's behalf, a SyncStep1 with its last known state vector for every doc of
   * `shard`: the new owner answers with what the client may have missed (an older state vector
   * only makes the answer larger) and with its own SyncStep1, which the client answers with
   * what the server lacks.
   */
  resyncShard(shard: number): void {
    if (this.isClosed) return;
    for (const doc of this.docs.values()) {
      if (doc.shard !== shard) continue;
      const stateVector = this.stateVectors.get(doc.docId) ?? new Uint8Array([0]);
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
    for (const doc of this.docs.values()) {
      this.ctx.hub.unsubscribeDoc(this, doc);
      this.ctx.hub.notifyGone('disconnect', this, doc);
    }
    this.docs.clear();
    this.stateVectors.clear();
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
    return this.bucket.take() && this.ctx.tenantRates.take(this.tenant);
  }

  private async drainTasks(): Promise<void> {
    this.running = true;
    try {
      while (this.tasks.length > 0) {
        const task = this.tasks.shift()!;
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

  private scheduleExpiry(): void {
    const ms = this.claims.exp * 1000 - Date.now();
    if (ms <= 0) {
      this.close(CloseCode.Unauthorized, 'token expired');
      return;
    }
    this.expiryTimer = setTimeout(
      () => {
        if (this.claims.exp * 1000 <= Date.now()) this.close(CloseCode.Unauthorized, 'token expired');
        else this.scheduleExpiry();
      },
      Math.min(ms + 5, MAX_TIMER_MS),
    );
    this.expiryTimer.unref();
  }

  private handleClosed(): void {
    if (this.closedHandled) return;
    this.closedHandled = true;
    this.out.close(1000); // marks the wrapper closed; no-op on a closed socket
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.tasks.length = 0;
    this.releaseAll();
    this.ctx.hub.unregister(this);
    this.ctx.onClosed(this);
  }
}
