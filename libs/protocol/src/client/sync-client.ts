import { DEFAULT_RECONNECT, backoffDelay, type ReconnectOptions } from './backoff';
import type { SessionDocuments } from './documents';
import { SyncClientError, errorForCloseCode, errorForHttpStatus } from './errors';
import type { SessionAction, SessionEvent, SyncEvent } from './events';
import { SyncSession, type SyncSessionOptions } from './session';
import { scheduleTokenRefresh, type TokenProvider } from './token';
import {
  WS_OPEN,
  buildSyncUrl,
  syncSubprotocols,
  toMessageData,
  type WebSocketFactory,
  type WebSocketLike,
} from './transport';
import { defaultWebSocketFactory } from './default-websocket';
import { bodyDocId } from '@diaryx-sync/crdt';
import { isTerminalCloseCode } from './wire';
import { CloseCode } from '../codes';

/** Receives everything a {@link SyncClient} reports: status, progress, file changes, errors. */
export interface SyncEventHandler {
  onEvent(event: SyncEvent): void;
}

/** Options of a {@link SyncClient}. */
export interface SyncClientOptions {
  /** Server address: `ws://host:port` (the `/sync2` path is added) or a full `/sync2` URL. */
  readonly serverUrl: string;
  /** Workspace to sync. */
  readonly workspaceId: string;
  /**
   * JWT, sent in the `Sec-WebSocket-Protocol` list (`diaryx-sync, bearer.<jwt>`): a fixed one, or
   * a {@link TokenProvider} asked before every connection and, during {@link SyncClient.runPersistent},
   * `refreshBeforeExpiryMs` before the token's `exp` (the client then switches to a new connection
   * with the fresh token; docs/protocol.md#tokens). With a provider a 4401 close (token expired or
   * revoked) is retried with a fresh token. A provider that rejects with a {@link SyncClientError}
   * ends the run with that error (e.g. a share link that was revoked); any other rejection is a
   * failed attempt, retried with backoff.
   */
  readonly token?: string | TokenProvider;
  /** With a token provider: refresh this long before `exp` (default 30000; at most half the remaining life). */
  readonly refreshBeforeExpiryMs?: number;
  /** Local documents of the workspace. */
  readonly documents: SessionDocuments;
  /** Event handler (more can be added with {@link SyncClient.on}). */
  readonly handler?: SyncEventHandler;
  /** Reconnect policy (1 s base, 32 s cap, unlimited attempts by default). */
  readonly reconnect?: Partial<ReconnectOptions>;
  /** Interval of `{"type":"ping"}` keep-alives (default 15000 ms). */
  readonly pingIntervalMs?: number;
  /** A connection that received nothing for `pingIntervalMs + pongTimeoutMs` is dead (default 10000 ms). */
  readonly pongTimeoutMs?: number;
  /** Interval of session `Tick`s (default 250 ms). */
  readonly tickIntervalMs?: number;
  /** How long {@link SyncClient.save} waits for `saved` (default 30000 ms). */
  readonly saveTimeoutMs?: number;
  /** Session tuning (fallback and retry delays). */
  readonly session?: Omit<SyncSessionOptions, 'workspaceId' | 'documents'>;
  /** WebSocket implementation (default: `ws` in Node, the global `WebSocket` in browsers). */
  readonly webSocketFactory?: WebSocketFactory;
  /** Called for a server's `file_manifest` with `client_is_new` (Files-Ready handshake). */
  readonly downloadSnapshot?: (workspaceId: string) => Promise<void>;
  /** Random source for the backoff jitter (tests). */
  readonly random?: () => number;
}

/** Options of {@link SyncClient.runOneShot}. */
export interface OneShotOptions {
  /** After sync, send `save` for the workspace doc and every live body doc and await `saved` (default true). */
  readonly save?: boolean;
  /** Fixed timeout; by default `baseTimeoutMs + perFileTimeoutMs × file count`. */
  readonly timeoutMs?: number;
  /** Default 30000 ms. */
  readonly baseTimeoutMs?: number;
  /** Default 100 ms per file. */
  readonly perFileTimeoutMs?: number;
  /** Aborts the run. */
  readonly signal?: AbortSignal;
  /**
   * Called once everything is synced and before the `save` round: local changes made here (and
   * forwarded with {@link SyncClient.sendLocalUpdate}) are included in the save barrier.
   */
  readonly afterSync?: () => void | Promise<void>;
  /** Called each time a document is confirmed durable (`done` of `total`). */
  readonly onSaved?: (done: number, total: number) => void;
}

/** Result of {@link SyncClient.runOneShot}. */
export interface OneShotResult {
  /** Live files in the workspace after the sync. */
  readonly files: number;
  /** Documents confirmed durable by `saved`. */
  readonly saved: number;
  /** Connection attempts used. */
  readonly attempts: number;
  /** Wall time. */
  readonly durationMs: number;
}

interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  readonly opened: boolean;
  /** Closed by the client to switch to a refreshed token. */
  readonly rotated: boolean;
  readonly httpStatus?: number;
  readonly error?: string;
}

interface Connection {
  readonly socket: WebSocketLike;
  readonly closed: Promise<CloseInfo>;
  readonly synced: Promise<void>;
  close(code: number, reason: string): void;
  /** Closes the socket and finishes the connection now (timers stopped, `closed` resolved). */
  abort(code: number, reason: string): void;
}

interface SaveWaiter {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * WebSocket client of the `/sync2` endpoint over a {@link SyncSession}: token auth, reconnect
 * with exponential backoff and jitter (never after 4400-4499), ping keep-alive with dead
 * connection detection, persistent and one-shot runs, and the `save` durability barrier.
 */
export class SyncClient {
  /** The protocol state machine (inspect `status`, `isSynced`, pending bodies). */
  readonly session: SyncSession;
  private readonly options: SyncClientOptions;
  private readonly reconnect: ReconnectOptions;
  private readonly factory: WebSocketFactory;
  private readonly listeners = new Set<(event: SyncEvent) => void>();
  private readonly saveWaiters = new Map<string, SaveWaiter[]>();
  private connection: Connection | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** A token the provider returned before expiry, for the next connection. */
  private refreshedToken: string | undefined;
  /** The provider's permanent failure during a refresh: ends the run. */
  private tokenFailure: SyncClientError | undefined;

  constructor(options: SyncClientOptions) {
    this.options = options;
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.factory = options.webSocketFactory ?? defaultWebSocketFactory();
    this.session = new SyncSession({
      ...options.session,
      workspaceId: options.workspaceId,
      documents: options.documents,
    });
    if (options.handler !== undefined) {
      const handler = options.handler;
      this.listeners.add((e) => handler.onEvent(e));
    }
  }

  /** Adds an event listener; returns a function that removes it. */
  on(listener: (event: SyncEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether a connection is open. */
  get connected(): boolean {
    return this.connection !== undefined && this.connection.socket.readyState === WS_OPEN;
  }

  /**
   * Sends a local change of `docId` (a Yjs update). Changes made while disconnected are carried
   * by the next handshake instead.
   */
  sendLocalUpdate(docId: string, update: Uint8Array): void {
    this.feed({ type: 'LocalUpdate', docId, update });
  }

  /**
   * Tells the server which files this client has open: their body docs are reported to the
   * workspace's peers as `focus_list_changed` (the `FocusListChanged` event). The focus set lives
   * in the {@link SyncSession}, which announces it again after every reconnect.
   */
  focus(paths: readonly string[]): void {
    this.feed({ type: 'Focus', paths });
  }

  /** Removes `paths` from the focus set (see {@link focus}). */
  unfocus(paths: readonly string[]): void {
    this.feed({ type: 'Unfocus', paths });
  }

  /** The current focus set, sorted ({@link SyncSession.focusedPaths}). */
  get focusedPaths(): string[] {
    return this.session.focusedPaths;
  }

  /** Sends a JSON control message (e.g. focus/unfocus) when connected. */
  sendControl(message: Record<string, unknown>): void {
    const conn = this.connection;
    if (conn !== undefined && conn.socket.readyState === WS_OPEN) conn.socket.send(JSON.stringify(message));
  }

  /**
   * Durability barrier: resolves once the server answers `{"type":"saved","doc":docId}`, i.e.
   * every update this connection sent for `docId` before the call is durable.
   */
  save(docId: string, timeoutMs = this.options.saveTimeoutMs ?? 30000): Promise<void> {
    const conn = this.connection;
    if (conn === undefined || conn.socket.readyState !== WS_OPEN) {
      return Promise.reject(new SyncClientError('unreachable', `cannot save ${docId}: not connected`));
    }
    return new Promise<void>((resolve, reject) => {
      // A timed-out waiter stays queued (settled): its late `saved` must not answer a later request.
      const timer = setTimeout(() => {
        reject(new SyncClientError('timeout', `no "saved" for ${docId} within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: SaveWaiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const list = this.saveWaiters.get(docId) ?? [];
      list.push(waiter);
      this.saveWaiters.set(docId, list);
      this.feed({ type: 'Save', docId });
    });
  }

  /** Closes the connection and ends {@link runPersistent} / {@link runOneShot}. */
  stop(): void {
    this.stopped = true;
    this.connection?.close(1000, 'client stopped');
    this.wake?.();
  }

  /**
   * Keeps the workspace in sync until {@link stop} (or `signal`): reconnects with backoff after
   * transient failures. Rejects with a {@link SyncClientError} on a permanent close (4400-4499,
   * HTTP 401/403) or when `reconnect.maxAttempts` consecutive attempts failed.
   */
  async runPersistent(signal?: AbortSignal): Promise<void> {
    this.stopped = false;
    this.tokenFailure = undefined;
    const onAbort = (): void => this.stop();
    signal?.addEventListener('abort', onAbort);
    try {
      let failures = 0;
      while (!this.stopped) {
        this.dispatch({
          type: 'StatusChanged',
          status: failures === 0 ? 'connecting' : 'reconnecting',
          attempt: failures,
        });
        const token = await this.acquireToken();
        if (this.stopped) return;
        if (token instanceof Error) {
          failures++;
          if (failures > this.reconnect.maxAttempts) throw token;
          await this.sleepInterruptibly(backoffDelay(failures, this.reconnect, this.options.random));
          continue;
        }
        const conn = this.open(token, true);
        const info = await conn.closed;
        if (this.stopped) return;
        if (this.tokenFailure !== undefined) throw this.tokenFailure;
        if (info.rotated) {
          failures = 0;
          continue;
        }
        const permanent = this.permanentError(info);
        if (permanent !== undefined) throw permanent;
        failures = info.opened ? 1 : failures + 1;
        if (failures > this.reconnect.maxAttempts) throw unreachableError(info, failures);
        await this.sleepInterruptibly(backoffDelay(failures, this.reconnect, this.options.random));
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Connects, syncs everything (until `Synced`), optionally waits for `saved` of every document,
   * and closes. Transient failures are retried within `reconnect.maxAttempts`; the whole run is
   * bounded by a timeout that grows with the file count.
   */
  async runOneShot(options: OneShotOptions = {}): Promise<OneShotResult> {
    const started = Date.now();
    this.stopped = false;
    const onAbort = (): void => this.stop();
    options.signal?.addEventListener('abort', onAbort);
    // Local file count, recounted at most every 2 s (listing is O(files)).
    let localFiles = this.options.documents.workspace.livePaths().length;
    let countedAt = Date.now();
    const deadline = (): number => {
      if (options.timeoutMs !== undefined) return started + options.timeoutMs;
      if (Date.now() - countedAt > 2000) {
        localFiles = this.options.documents.workspace.livePaths().length;
        countedAt = Date.now();
      }
      const files = Math.max(localFiles, this.session.serverFileCount ?? 0);
      return started + (options.baseTimeoutMs ?? 30000) + (options.perFileTimeoutMs ?? 100) * files;
    };
    let timer: ReturnType<typeof setInterval> | undefined;
    // The connection of the current attempt: closed in `finally` whatever happens (e.g. a throwing
    // afterSync), so no socket, tick or ping timer outlives the run.
    let conn: Connection | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setInterval(() => {
        if (Date.now() > deadline()) resolve('timeout');
      }, 100);
    });
    try {
      let attempts = 0;
      let failures = 0;
      for (;;) {
        if (this.stopped) throw new SyncClientError('aborted', 'interrupted');
        attempts++;
        this.dispatch({
          type: 'StatusChanged',
          status: attempts === 1 ? 'connecting' : 'reconnecting',
          attempt: attempts - 1,
        });
        const token = await this.acquireToken();
        if (token instanceof Error) {
          if (this.stopped) throw new SyncClientError('aborted', 'interrupted');
          failures++;
          if (failures > Math.min(this.reconnect.maxAttempts, 1e6)) throw token;
          await this.sleepInterruptibly(backoffDelay(failures, this.reconnect, this.options.random));
          continue;
        }
        conn = this.open(token, false);
        const first = await Promise.race([conn.synced.then(() => 'synced' as const), conn.closed, timedOut]);
        if (first === 'timeout') {
          conn.close(1000, 'timeout');
          throw new SyncClientError('timeout', `sync did not complete within ${deadline() - started} ms`);
        }
        if (first !== 'synced') {
          if (this.stopped) throw new SyncClientError('aborted', 'interrupted');
          const permanent = this.permanentError(first);
          if (permanent !== undefined) throw permanent;
          failures = first.opened ? 1 : failures + 1;
          if (failures > Math.min(this.reconnect.maxAttempts, 1e6)) throw unreachableError(first, failures);
          await this.sleepInterruptibly(backoffDelay(failures, this.reconnect, this.options.random));
          continue;
        }
        let saved = 0;
        if (options.afterSync !== undefined) await options.afterSync();
        if (options.save !== false) {
          const docs = [this.session.workspaceDocId, ...this.savableBodyDocIds()];
          const all = Promise.all(
            docs.map((d) =>
              this.save(d).then(() => {
                saved++;
                options.onSaved?.(saved, docs.length);
              }),
            ),
          );
          const result = await Promise.race([all, conn.closed, timedOut]);
          if (result === 'timeout') {
            conn.close(1000, 'timeout');
            throw new SyncClientError('timeout', `"saved" not received within ${deadline() - started} ms`);
          }
          if (!Array.isArray(result)) {
            const permanent = this.permanentError(result);
            throw (
              permanent ??
              new SyncClientError('unreachable', `connection lost while saving (${result.code})`, result.code)
            );
          }
        }
        conn.close(1000, 'done');
        await conn.closed;
        return {
          files: this.options.documents.workspace.livePaths().length,
          saved,
          attempts,
          durationMs: Date.now() - started,
        };
      }
    } finally {
      clearInterval(timer);
      options.signal?.removeEventListener('abort', onAbort);
      conn?.abort(1000, 'done');
    }
  }

  // ---------------------------------------------------------------------------------------------

  /**
   * Body doc ids of every live file. A path without a valid body doc id (another client wrote an
   * entry over 255 bytes) is skipped with an `Error` event: the session never synced it either.
   */
  private savableBodyDocIds(): string[] {
    const ids: string[] = [];
    for (const [path, name] of this.options.documents.workspace.bodyNames()) {
      try {
        ids.push(bodyDocId(this.options.workspaceId, name));
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        this.dispatch({
          type: 'Error',
          message: `not saving ${JSON.stringify(path)}: no valid body doc id (${why})`,
        });
      }
    }
    return ids;
  }

  /**
   * The token for the next connection: the fixed one, the one a refresh got, or the provider's.
   * A provider failure is returned as an error to retry; a permanent one (a {@link SyncClientError})
   * is thrown.
   */
  private async acquireToken(): Promise<string | undefined | SyncClientError> {
    const source = this.options.token;
    if (typeof source !== 'function') return source;
    const refreshed = this.refreshedToken;
    this.refreshedToken = undefined;
    if (refreshed !== undefined) return refreshed;
    try {
      return await source();
    } catch (err) {
      if (err instanceof SyncClientError) throw err;
      const message = `token provider failed: ${err instanceof Error ? err.message : String(err)}`;
      this.dispatch({ type: 'Error', message });
      return new SyncClientError('unreachable', message);
    }
  }

  /** {@link permanentError}, except a 4401 close when a provider can give a fresh token. */
  private permanentError(info: CloseInfo): SyncClientError | undefined {
    if (info.code === CloseCode.Unauthorized && typeof this.options.token === 'function') return undefined;
    return permanentError(info);
  }

  private dispatch(event: SyncEvent): void {
    if (event.type === 'Saved') {
      // One `Saved` per `save` request, in request order (the session answers its own silently).
      const list = this.saveWaiters.get(event.docId);
      const waiter = list?.shift();
      if (list?.length === 0) this.saveWaiters.delete(event.docId);
      waiter?.resolve();
    }
    for (const listener of [...this.listeners]) listener(event);
  }

  private feed(event: SessionEvent): void {
    this.execute(this.session.handle(event));
  }

  private execute(actions: readonly SessionAction[]): void {
    const socket = this.connection?.socket;
    for (const action of actions) {
      switch (action.type) {
        case 'SendBinary':
          if (socket?.readyState === WS_OPEN) socket.send(action.data);
          break;
        case 'SendText':
          if (socket?.readyState === WS_OPEN) socket.send(action.text);
          break;
        case 'Emit':
          this.dispatch(action.event);
          break;
        case 'DownloadSnapshot':
          void this.downloadSnapshot(action.workspaceId);
          break;
      }
    }
  }

  private async downloadSnapshot(workspaceId: string): Promise<void> {
    try {
      await this.options.downloadSnapshot?.(workspaceId);
    } catch (err) {
      this.dispatch({ type: 'Error', message: `snapshot download failed: ${String(err)}` });
    }
    this.feed({ type: 'SnapshotImported' });
  }

  private sleepInterruptibly(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /**
   * Opens one connection with `token` and wires it to the session; with `refresh` and a token
   * provider, switches to a new connection with a fresh token before this one expires.
   */
  private open(token: string | undefined, refresh: boolean): Connection {
    const url = buildSyncUrl(this.options.serverUrl);
    const socket = this.factory(url, syncSubprotocols(token));
    socket.binaryType = 'arraybuffer';
    const pingMs = this.options.pingIntervalMs ?? 15000;
    const deadMs = pingMs + (this.options.pongTimeoutMs ?? 10000);
    let opened = false;
    let finished = false;
    let rotated = false;
    let cancelRefresh = (): void => undefined;
    let lastSeen = Date.now();
    let errorText: string | undefined;
    let tickTimer: ReturnType<typeof setInterval> | undefined;
    let pingTimer: ReturnType<typeof setInterval> | undefined;
    let resolveClosed!: (info: CloseInfo) => void;
    let resolveSynced!: () => void;
    const closed = new Promise<CloseInfo>((r) => (resolveClosed = r));
    const synced = new Promise<void>((r) => (resolveSynced = r));
    const unsubscribe = this.on((e) => {
      if (e.type === 'StatusChanged' && e.status === 'synced') resolveSynced();
    });

    const finish = (code: number, reason: string): void => {
      if (finished) return;
      finished = true;
      clearInterval(tickTimer);
      clearInterval(pingTimer);
      cancelRefresh();
      unsubscribe();
      if (opened) this.feed({ type: 'Disconnected' });
      if (this.connection === conn) this.connection = undefined;
      const err = new SyncClientError('unreachable', `connection closed (${code}) before "saved"`, code);
      for (const [doc, list] of [...this.saveWaiters]) {
        this.saveWaiters.delete(doc);
        for (const w of list) w.reject(err);
      }
      const status = errorText !== undefined ? /Unexpected server response: (\d{3})/.exec(errorText) : null;
      resolveClosed({
        code,
        reason,
        opened,
        rotated,
        httpStatus: status !== null ? Number(status[1]) : undefined,
        error: errorText,
      });
    };

    const conn: Connection = {
      socket,
      closed,
      synced,
      close: (code, reason) => {
        try {
          socket.close(code, reason);
        } catch {
          /* already closing */
        }
        if (!opened) finish(code, reason);
      },
      abort: (code, reason) => {
        try {
          socket.close(code, reason);
        } catch {
          /* already closing */
        }
        finish(code, reason);
      },
    };
    this.connection = conn;

    socket.addEventListener('open', () => {
      opened = true;
      lastSeen = Date.now();
      this.feed({ type: 'Connected' });
      const provider = this.options.token;
      if (refresh && token !== undefined && typeof provider === 'function') {
        cancelRefresh = scheduleTokenRefresh(token, provider, this.options.refreshBeforeExpiryMs ?? 30000, {
          fresh: (fresh) => {
            this.refreshedToken = fresh;
            rotated = true;
            conn.close(1000, 'token refresh');
          },
          failed: (err) => {
            if (err instanceof SyncClientError) {
              this.tokenFailure = err;
              conn.close(1000, 'token refresh failed');
              return 'stop';
            }
            this.dispatch({ type: 'Error', message: `token refresh failed: ${String(err)}` });
            return 'retry';
          },
        });
      }
      tickTimer = setInterval(() => this.feed({ type: 'Tick' }), this.options.tickIntervalMs ?? 250);
      pingTimer = setInterval(() => {
        if (Date.now() - lastSeen > deadMs) {
          // Dead connection: no close handshake possible, drop it now.
          const terminate = (socket as unknown as { terminate?: () => void }).terminate;
          if (typeof terminate === 'function') terminate.call(socket);
          else socket.close(4000, 'dead connection');
          finish(1006, 'dead connection (no pong)');
          return;
        }
        if (socket.readyState === WS_OPEN) socket.send('{"type":"ping"}');
      }, pingMs);
    });
    socket.addEventListener('message', (event) => {
      if (finished) return;
      lastSeen = Date.now();
      const data = toMessageData(event.data);
      if (typeof data === 'string') this.feed({ type: 'TextMessage', text: data });
      else if (data !== undefined) this.feed({ type: 'BinaryMessage', data });
    });
    socket.addEventListener('error', (event) => {
      const e = event as { message?: string; error?: unknown };
      errorText = e.message ?? (e.error instanceof Error ? e.error.message : 'WebSocket error');
    });
    socket.addEventListener('close', (event) => finish(event.code, event.reason));
    return conn;
  }
}

/** OpenSSL's words for a TLS client talking to a plain-text server. */
const TLS_MISMATCH = /wrong version number|WRONG_VERSION_NUMBER|packet length too long|unknown protocol/i;

function permanentError(info: CloseInfo): SyncClientError | undefined {
  if (info.httpStatus === 401 || info.httpStatus === 403 || info.httpStatus === 404) {
    return errorForHttpStatus(info.httpStatus);
  }
  if (info.error !== undefined && TLS_MISMATCH.test(info.error)) {
    // Retrying cannot help: the URL asks for TLS (wss://, https://) where the server has none.
    return new SyncClientError(
      'unreachable',
      'TLS handshake failed: the server does not speak TLS on this port (use ws:// or http:// instead of wss:// or https://)',
      info.code,
    );
  }
  if (isTerminalCloseCode(info.code)) return errorForCloseCode(info.code, info.reason);
  return undefined;
}

function unreachableError(info: CloseInfo, attempts: number): SyncClientError {
  const why =
    info.error ?? (info.httpStatus !== undefined ? `HTTP ${info.httpStatus}` : `close ${info.code}`);
  return new SyncClientError(
    'unreachable',
    `server unreachable after ${attempts} attempt${attempts === 1 ? '' : 's'} (${why})`,
    info.code,
    info.httpStatus,
  );
}
