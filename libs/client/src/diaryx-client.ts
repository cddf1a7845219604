/**
 * `DiaryxClient`: a workspace synced over `/sync2` (docs/protocol.md) for browsers. It drives the
 * protocol's `SyncSession` over a `WebSocket`, sends every local Yjs transaction automatically,
 * reconnects with backoff, asks its token provider for a fresh token before each connection and
 * before the current token expires, relays presence, and offers `save()` as a durability barrier.
 */
import type * as Y from 'yjs';
import {
  BodyDocManager,
  LOAD_ORIGIN,
  REMOTE_ORIGIN,
  WorkspaceCrdt,
  bodyDocId,
  isDocId,
  parseDocId,
  workspaceDocId,
  type BodyDoc,
} from '@diaryx-sync/crdt';
import {
  CloseCode,
  SyncSession,
  backoffDelay,
  buildSyncUrl,
  canonicalSessionPath,
  createCrdtSessionDocuments,
  decodeFrame,
  decodeMessages,
  encodeFrame,
  encodeMessage,
  isPermanentCloseCode,
  readTokenClaims,
  scheduleTokenRefresh,
  syncSubprotocols,
  toMessageData,
  type SessionAction,
  type SessionDocuments,
  type SyncEvent,
  type TokenClaimsView,
} from '@diaryx-sync/protocol/client';
import { Emitter } from './emitter';
import { DiaryxClientError } from './errors';
import { FilePresence } from './presence';
import type {
  ClientEventName,
  ClientListener,
  ClientRole,
  ClientStatus,
  DiaryxClientOptions,
  FileInfo,
  OpenFile,
  WebSocketConstructor,
} from './types';

const WS_OPEN = 1;
const TICK_MS = 250;
const PING_MS = 15000;
const DEAD_AFTER_MS = 25000;

interface ConnectionEnd {
  readonly code: number;
  readonly reason: string;
  readonly opened: boolean;
  /** Closed by the client to switch to a refreshed token. */
  readonly rotated: boolean;
}

interface OpenEntry {
  path: string;
  readonly presence: FilePresence;
}

/** See module doc and README.md. */
export class DiaryxClient {
  /** The workspace this client syncs. */
  readonly workspaceId: string;
  private readonly options: DiaryxClientOptions;
  private readonly events = new Emitter();
  private readonly workspace = new WorkspaceCrdt();
  private readonly bodies = new BodyDocManager();
  private readonly session: SyncSession;
  private readonly wsDocId: string;
  private readonly watched = new WeakSet<Y.Doc>();
  private readonly openFiles = new Map<string, OpenEntry>();
  private socket: WebSocket | undefined;
  private currentStatus: ClientStatus = 'disconnected';
  private started = false;
  private destroyed = false;
  private claims: TokenClaimsView = { expiresAt: null, role: null };
  private nextToken: string | undefined;
  private wake: (() => void) | undefined;
  /** Local updates made per doc id (a counter), and the part of it the server confirmed durable. */
  private readonly localSeq = new Map<string, number>();
  private readonly savedSeq = new Map<string, number>();
  /** Per doc id, the counters of the `save` requests sent on this connection, oldest first. */
  private readonly inflight = new Map<string, number[]>();
  private readonly saveCheckers = new Set<() => void>();

  constructor(options: DiaryxClientOptions) {
    this.options = options;
    this.workspaceId = options.workspaceId;
    this.wsDocId = workspaceDocId(options.workspaceId);
    this.session = new SyncSession({ workspaceId: options.workspaceId, documents: this.sessionDocuments() });
    this.workspace.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== REMOTE_ORIGIN && origin !== LOAD_ORIGIN) this.onLocalUpdate(this.wsDocId, update);
    });
  }

  // ------------------------------------------------------------------------------- lifecycle

  /** Starts connecting (and keeps reconnecting until {@link destroy}). Idempotent. */
  connect(): void {
    if (this.started || this.destroyed) return;
    this.started = true;
    this.run().catch((err: unknown) => {
      // Only a missing WebSocket implementation gets here: nothing to retry.
      this.events.emit('closed', { code: 1006, reason: err instanceof Error ? err.message : String(err) });
      this.setStatus('closed');
    });
  }

  /** Closes the connection for good, stops presence timers, rejects pending saves. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const entry of this.openFiles.values()) entry.presence.destroy();
    this.openFiles.clear();
    try {
      this.socket?.close(1000, 'client destroyed');
    } catch {
      /* already closing */
    }
    this.wake?.();
    this.setStatus('closed');
    for (const check of [...this.saveCheckers]) check();
    this.events.clear();
  }

  /** Current connection state. */
  get status(): ClientStatus {
    return this.currentStatus;
  }

  /** The `role` claim of the token in use (null before the first token). */
  get role(): ClientRole | null {
    return this.claims.role;
  }

  /** True for a `viewer` token: the server refuses every change; the mutators throw `read_only`. */
  get readOnly(): boolean {
    return this.claims.role === 'viewer';
  }

  /** Listens to an event (see {@link ClientEvents}); returns a function that removes the listener. */
  on<K extends ClientEventName>(name: K, listener: ClientListener<K>): () => void {
    return this.events.on(name, listener);
  }

  /** Resolves once the client is `synced` (at once when it already is). */
  whenSynced(): Promise<void> {
    if (this.currentStatus === 'synced') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.events.on('status', ({ status }) => {
        if (status === 'synced') {
          off();
          resolve();
        } else if (status === 'closed') {
          off();
          reject(new DiaryxClientError('closed', 'the client is closed'));
        }
      });
    });
  }

  // ------------------------------------------------------------------------------- files

  /** Live files, sorted by path. */
  files(): FileInfo[] {
    return this.workspace.listFiles().map((f) => ({
      path: f.path,
      ...(f.metadata.title !== null && f.metadata.title !== '' ? { title: f.metadata.title } : {}),
      modifiedAt: f.metadata.modified_at,
    }));
  }

  /** Whether `path` is a live file. */
  hasFile(path: string): boolean {
    const meta = this.workspace.getFile(path);
    return meta !== undefined && !meta.deleted;
  }

  /** The markdown body of a file ('' when it has none yet). */
  readFile(path: string): string {
    return this.body(this.existing(path)).getBody();
  }

  /** Creates a file (with an optional body). Throws `exists`, `invalid_path` or `read_only`. */
  createFile(path: string, body = ''): void {
    this.assertWritable();
    const canonical = canonicalOrThrow(path);
    if (this.hasFile(canonical)) throw new DiaryxClientError('exists', `${canonical} already exists`);
    if (body !== '') this.body(canonical).setBody(body);
    this.workspace.setFile(canonical, { modified_at: Date.now() });
    this.events.emit('file-created', { path: canonical, remote: false });
  }

  /** Replaces a file's body, as a minimal text diff (concurrent edits elsewhere survive). */
  writeFile(path: string, body: string): void {
    this.assertWritable();
    this.body(this.existing(path)).setBody(body);
  }

  /** Deletes a file (a tombstone in the workspace doc). */
  deleteFile(path: string): void {
    this.assertWritable();
    const canonical = this.existing(path);
    this.closeFile(canonical);
    this.workspace.deleteFile(canonical);
    this.events.emit('file-deleted', { path: canonical, remote: false });
  }

  /** Renames a file; its body (and its open presence) moves with it. */
  renameFile(from: string, to: string): void {
    this.assertWritable();
    const source = this.existing(from);
    const target = canonicalOrThrow(to);
    if (this.hasFile(target)) throw new DiaryxClientError('exists', `${target} already exists`);
    const meta = this.workspace.getFile(source);
    if (meta === undefined) throw new DiaryxClientError('not_found', `${source} does not exist`);
    // The body doc moves first: the workspace update below makes the session sync `target`.
    if (this.bodies.hasDoc(source)) void this.bodies.renameDoc(source, target);
    if (this.moveOpenEntry(source, target)) {
      this.feed({ type: 'Unfocus', paths: [source] });
      this.feed({ type: 'Focus', paths: [target] });
    }
    this.workspace.doc.transact(() => {
      this.workspace.setFile(target, { ...meta, filename: '', modified_at: Date.now() });
      this.workspace.deleteFile(source);
    }, 'diaryx-sync:local-rename');
    this.events.emit('file-renamed', { from: source, to: target, remote: false });
  }

  /**
   * Opens a file for editing: its body doc, `Y.Text` and presence. Focuses it on the server (the
   * workspace's focus list). Edits to `doc` are sent automatically.
   */
  openFile(path: string): OpenFile {
    const canonical = this.existing(path);
    const body = this.body(canonical);
    let entry = this.openFiles.get(canonical);
    if (entry === undefined) {
      const created: OpenEntry = {
        path: canonical,
        presence: new FilePresence(body.doc, (update) => this.sendAwareness(created.path, update)),
      };
      entry = created;
      this.openFiles.set(canonical, entry);
      this.feed({ type: 'Focus', paths: [canonical] });
    }
    return { path: canonical, doc: body.doc, text: body.body, awareness: entry.presence.awareness };
  }

  /** Closes an open file: presence removed for the others, unfocused. No-op when not open. */
  closeFile(path: string): void {
    const entry = this.openFiles.get(path);
    if (entry === undefined) return;
    entry.presence.destroy();
    this.openFiles.delete(path);
    this.feed({ type: 'Unfocus', paths: [path] });
  }

  /**
   * Durability barrier: resolves once every local change made before the call is durable on the
   * server (`saved` for each changed doc), across reconnects; rejects with `timeout` after
   * `saveTimeoutMs`, or `closed` when the client is destroyed or refused.
   */
  save(): Promise<void> {
    if (this.destroyed) return Promise.reject(new DiaryxClientError('closed', 'the client is closed'));
    const target = new Map<string, number>();
    for (const [docId, seq] of this.localSeq)
      if ((this.savedSeq.get(docId) ?? 0) < seq) target.set(docId, seq);
    if (target.size === 0) return Promise.resolve();
    const timeoutMs = this.options.saveTimeoutMs ?? 30000;
    return new Promise((resolve, reject) => {
      const finish = (error?: DiaryxClientError): void => {
        clearTimeout(timer);
        this.saveCheckers.delete(check);
        if (error === undefined) resolve();
        else reject(error);
      };
      const check = (): void => {
        if (this.destroyed) return finish(new DiaryxClientError('closed', 'the client is closed'));
        for (const [docId, seq] of target) if ((this.savedSeq.get(docId) ?? 0) < seq) return;
        finish();
      };
      const timer = setTimeout(
        () =>
          finish(new DiaryxClientError('timeout', `changes not confirmed durable within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.saveCheckers.add(check);
      this.requestSaves();
    });
  }

  // ------------------------------------------------------------------------------- internals

  private sessionDocuments(): SessionDocuments {
    const base = createCrdtSessionDocuments(this.workspace, this.bodies);
    return {
      workspace: base.workspace,
      bodies: {
        get: (path) => {
          this.body(path);
          return base.bodies.get(path);
        },
        has: (path) => base.bodies.has(path),
        rename: (from, to) => {
          base.bodies.rename(from, to);
          this.moveOpenEntry(from, to);
        },
        release: (path) => base.bodies.release(path),
      },
    };
  }

  /** The body doc of a canonical path, watched for local edits. */
  private body(path: string): BodyDoc {
    const body = this.bodies.getOrCreate(path);
    if (!this.watched.has(body.doc)) {
      this.watched.add(body.doc);
      body.doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin === REMOTE_ORIGIN || origin === LOAD_ORIGIN) return;
        this.onLocalUpdate(bodyDocId(this.workspaceId, body.name), update);
      });
    }
    return body;
  }

  private existing(path: string): string {
    const canonical = canonicalOrThrow(path);
    if (!this.hasFile(canonical)) throw new DiaryxClientError('not_found', `${canonical} does not exist`);
    return canonical;
  }

  private assertWritable(): void {
    if (this.destroyed) throw new DiaryxClientError('closed', 'the client is closed');
    if (this.readOnly) throw new DiaryxClientError('read_only', 'this token is read-only (viewer)');
  }

  /**
   * Moves an open file's entry to its new path; true when one moved. Its focus moves in the
   * session: by the session itself on a remote rename, by {@link renameFile} on a local one.
   */
  private moveOpenEntry(from: string, to: string): boolean {
    const entry = this.openFiles.get(from);
    if (entry === undefined || this.openFiles.has(to)) return false;
    this.openFiles.delete(from);
    entry.path = to;
    this.openFiles.set(to, entry);
    return true;
  }

  private onLocalUpdate(docId: string, update: Uint8Array): void {
    this.localSeq.set(docId, (this.localSeq.get(docId) ?? 0) + 1);
    if (this.socket?.readyState === WS_OPEN) this.feed({ type: 'LocalUpdate', docId, update });
  }

  /** Sends `save` for every doc with changes not yet covered by a pending request (when synced). */
  private requestSaves(): void {
    if (this.socket?.readyState !== WS_OPEN || this.currentStatus !== 'synced') return;
    for (const [docId, seq] of this.localSeq) {
      if ((this.savedSeq.get(docId) ?? 0) >= seq) continue;
      const pending = this.inflight.get(docId) ?? [];
      if (pending.length > 0 && pending[pending.length - 1] >= seq) continue;
      pending.push(seq);
      this.inflight.set(docId, pending);
      this.feed({ type: 'Save', docId });
    }
  }

  private onSaved(docId: string): void {
    const seq = this.inflight.get(docId)?.shift();
    if (seq === undefined) return;
    if ((this.savedSeq.get(docId) ?? 0) < seq) this.savedSeq.set(docId, seq);
    for (const check of [...this.saveCheckers]) check();
  }

  private sendAwareness(path: string, update: Uint8Array): void {
    if (this.socket?.readyState !== WS_OPEN || this.currentStatus !== 'synced') return;
    const frame = encodeFrame(
      bodyDocId(this.workspaceId, path),
      encodeMessage({ type: 'awareness', update }),
    );
    this.socket.send(frame);
  }

  /** After `synced`: our presence on open files, pending saves (the session re-sends the focus). */
  private announce(): void {
    for (const entry of this.openFiles.values()) {
      const update = entry.presence.localUpdate();
      if (update !== null) this.sendAwareness(entry.path, update);
    }
    this.requestSaves();
  }

  private setStatus(status: ClientStatus, attempt?: number): void {
    if (this.currentStatus === 'closed') return;
    const changed = this.currentStatus !== status;
    this.currentStatus = status;
    if (changed || attempt !== undefined)
      this.events.emit('status', attempt === undefined ? { status } : { status, attempt });
    if (status === 'synced' && changed) this.announce();
  }

  private feed(event: Parameters<SyncSession['handle']>[0]): void {
    this.execute(this.session.handle(event));
  }

  private execute(actions: readonly SessionAction[]): void {
    for (const action of actions) {
      switch (action.type) {
        case 'SendBinary':
          if (this.socket?.readyState === WS_OPEN) this.socket.send(action.data);
          break;
        case 'SendText':
          if (this.socket?.readyState === WS_OPEN) this.socket.send(action.text);
          break;
        case 'Emit':
          this.translate(action.event);
          break;
        case 'DownloadSnapshot':
          // Snapshot downloads are a feature of other Diaryx servers: sync everything instead.
          this.feed({ type: 'SnapshotImported' });
          break;
      }
    }
  }

  private translate(event: SyncEvent): void {
    switch (event.type) {
      case 'StatusChanged':
        if (event.status !== 'disconnected') this.setStatus(event.status);
        return;
      case 'FilesChanged': {
        const c = event.changes;
        for (const path of [...c.created, ...c.restored])
          this.events.emit('file-created', { path, remote: true });
        for (const path of c.deleted) {
          this.closeFile(path);
          this.events.emit('file-deleted', { path, remote: true });
        }
        for (const { from, to } of c.renamed) this.events.emit('file-renamed', { from, to, remote: true });
        return;
      }
      case 'BodyChanged':
        this.events.emit('body-changed', { path: event.path });
        return;
      case 'Saved':
        this.onSaved(event.docId);
        return;
      case 'ServerError': {
        const path = event.docId === undefined ? null : pathOf(event.docId);
        if (event.code === 'read_only') this.events.emit('read-only', { path });
        this.events.emit('server-error', {
          code: event.code,
          ...(event.message !== undefined ? { message: event.message } : {}),
          path,
        });
        return;
      }
      case 'PeersChanged':
        this.events.emit('peers', { peerCount: event.peerCount });
        return;
      case 'FocusListChanged':
        this.events.emit('focus-list', { paths: event.files.map((f) => pathOf(f) ?? f) });
        return;
      case 'Error':
        this.events.emit('error', { message: event.message });
        return;
      case 'Progress':
      case 'Pong':
      case 'BodyReleased':
        return;
    }
  }

  // ------------------------------------------------------------------------------- connection

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.destroyed) {
      this.setStatus(failures === 0 ? 'connecting' : 'reconnecting', failures);
      let token: string;
      try {
        token = this.nextToken ?? (await this.options.token());
      } catch (err) {
        this.events.emit('error', { message: `token provider failed: ${String(err)}` });
        failures++;
        await this.sleep(this.backoff(failures));
        continue;
      }
      this.nextToken = undefined;
      if (this.destroyed) return;
      this.useToken(token);
      const end = await this.runConnection(token);
      if (this.destroyed) return;
      if (end.rotated) {
        failures = 0;
        continue;
      }
      // 4401 means the token expired or was revoked: retry with a fresh one. Other 44xx are final.
      if (isPermanentCloseCode(end.code) && end.code !== CloseCode.Unauthorized) {
        this.setStatus('disconnected');
        this.events.emit('closed', { code: end.code, reason: end.reason });
        this.setStatus('closed');
        for (const check of [...this.saveCheckers]) check();
        return;
      }
      failures = end.opened ? 1 : failures + 1;
      this.setStatus('disconnected');
      await this.sleep(this.backoff(failures));
    }
  }

  private useToken(token: string): void {
    const first = this.claims.expiresAt === null && this.claims.role === null;
    this.claims = readTokenClaims(token);
    if (!first) this.events.emit('token-refreshed', { expiresAt: this.claims.expiresAt });
  }

  private backoff(failures: number): number {
    return backoffDelay(failures, {
      baseDelayMs: this.options.reconnect?.baseDelayMs ?? 500,
      maxDelayMs: this.options.reconnect?.maxDelayMs ?? 15000,
      maxAttempts: Number.POSITIVE_INFINITY,
      jitter: 0.3,
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** One connection, from opening to its end. */
  private runConnection(token: string): Promise<ConnectionEnd> {
    const Impl = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Impl === undefined) throw new DiaryxClientError('closed', 'no WebSocket implementation available');
    const socket = new Impl(buildSyncUrl(this.options.url), syncSubprotocols(token));
    socket.binaryType = 'arraybuffer';
    this.socket = socket;
    return new Promise<ConnectionEnd>((resolve) => {
      let opened = false;
      let finished = false;
      let rotated = false;
      let lastSeen = Date.now();
      let tick: ReturnType<typeof setInterval> | undefined;
      let ping: ReturnType<typeof setInterval> | undefined;
      let cancelRefresh = (): void => undefined;

      const finish = (code: number, reason: string): void => {
        if (finished) return;
        finished = true;
        clearInterval(tick);
        clearInterval(ping);
        cancelRefresh();
        if (this.socket === socket) this.socket = undefined;
        this.inflight.clear();
        for (const entry of this.openFiles.values()) entry.presence.dropRemoteStates();
        if (opened) this.feed({ type: 'Disconnected' });
        resolve({ code, reason, opened, rotated });
      };
      const close = (code: number, reason: string): void => {
        try {
          socket.close(code, reason);
        } catch {
          /* already closing */
        }
        finish(code, reason);
      };
      socket.addEventListener('open', () => {
        if (finished) return;
        opened = true;
        lastSeen = Date.now();
        this.feed({ type: 'Connected' });
        tick = setInterval(() => this.feed({ type: 'Tick' }), TICK_MS);
        ping = setInterval(() => {
          if (Date.now() - lastSeen > DEAD_AFTER_MS) return close(4000, 'dead connection');
          if (socket.readyState === WS_OPEN) socket.send('{"type":"ping"}');
        }, PING_MS);
        cancelRefresh = scheduleTokenRefresh(
          token,
          this.options.token,
          this.options.refreshBeforeExpiryMs ?? 30000,
          {
            fresh: (fresh) => {
              this.nextToken = fresh;
              rotated = true;
              close(1000, 'token refresh');
            },
            failed: (err) => {
              this.events.emit('error', { message: `token refresh failed: ${String(err)}` });
              return 'retry';
            },
          },
        );
      });
      socket.addEventListener('message', (event: MessageEvent) => {
        if (finished) return;
        lastSeen = Date.now();
        const data = toMessageData(event.data);
        if (typeof data === 'string') this.feed({ type: 'TextMessage', text: data });
        else if (data !== undefined) this.onBinary(data);
      });
      socket.addEventListener('close', (event: CloseEvent) => finish(event.code, event.reason));
    });
  }

  /** Awareness messages go to the open file's presence; sync messages to the session. */
  private onBinary(data: Uint8Array): void {
    let docId: string;
    let messages: ReturnType<typeof decodeMessages>;
    try {
      const frame = decodeFrame(data);
      docId = frame.docId;
      messages = decodeMessages(frame.payload);
    } catch {
      this.feed({ type: 'BinaryMessage', data }); // the session reports it
      return;
    }
    let sync = false;
    for (const message of messages) {
      if (message.type !== 'awareness') {
        sync = true;
        continue;
      }
      const path = pathOf(docId);
      const entry = path === null ? undefined : this.openFiles.get(path);
      try {
        entry?.presence.applyRemote(message.update);
      } catch (err) {
        this.events.emit('error', { message: `bad awareness update for ${docId}: ${String(err)}` });
      }
    }
    if (sync) this.feed({ type: 'BinaryMessage', data });
  }
}

function pathOf(docId: string): string | null {
  const parsed = isDocId(docId) ? parseDocId(docId) : null;
  return parsed?.kind === 'body' ? parsed.path : null;
}

function canonicalOrThrow(path: string): string {
  try {
    return canonicalSessionPath(path);
  } catch {
    throw new DiaryxClientError('invalid_path', `invalid path: ${JSON.stringify(path)}`);
  }
}
