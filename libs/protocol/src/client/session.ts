import {
  bodyDocId,
  bodyDocIdPrefix,
  isDocId,
  parseDocId,
  tryNormalizePath,
  workspaceDocId,
} from '@diaryx-sync/crdt';
import { BodyReleaseLedger } from './body-release';
import { NO_CHANGES, hasChanges, type FileChangeSet, type SessionDocuments } from './documents';
import type { SessionAction, SessionEvent, SyncEvent, SyncStatus } from './events';
import { focusMessages } from './focus';
import {
  SyncMessageType,
  decodeFrame,
  decodeMessages,
  encodeFrame,
  encodeSyncMessage,
  parseServerMessage,
  type ServerControlMessage,
} from './wire';

/** Options of a {@link SyncSession}. */
export interface SyncSessionOptions {
  /** The workspace to sync. */
  readonly workspaceId: string;
  /** Local documents of that workspace. */
  readonly documents: SessionDocuments;
  /** Milliseconds clock (default `Date.now`). */
  readonly clock?: () => number;
  /**
   * How long to wait for `sync_complete` after the workspace SyncStep2 before treating the
   * workspace handshake as complete anyway (servers that never send it). Default 3000 ms.
   */
  readonly syncCompleteFallbackMs?: number;
  /**
   * Re-send a SyncStep1 that got no SyncStep2 after this long (default 20000 ms). WebSockets do
   * not lose frames, so this only heals servers that dropped a request (e.g. during a failover).
   */
  readonly retryAfterMs?: number;
  /** A `Progress` event every this many bootstrapped bodies (default 50). */
  readonly progressEvery?: number;
  /**
   * Opt-in: release (stop syncing and free) every body doc that is synced, not focused, has no
   * local change the server has not confirmed durable, and was idle this long (ms), once the
   * session is `Synced`. A released body is loaded again when it is focused or changed locally.
   * Default: never (docs/protocol.md#releasing-unfocused-body-docs).
   */
  readonly releaseUnfocusedBodiesAfterMs?: number;
}

/** Bodies released or asked to `save` per `Tick` at most (keeps control frames under the rate limit). */
const RELEASES_PER_TICK = 16;

type Phase = 'idle' | 'handshake' | 'active';

/**
 * Client sync state machine (inject/process pattern, no I/O): feed {@link SessionEvent}s to
 * {@link handle}, execute the returned {@link SessionAction}s.
 *
 * `Synced` is reported once the workspace handshake is complete (SyncStep2 received and
 * `sync_complete` received, or the bounded fallback elapsed) and every bootstrapped body doc has
 * received the server's SyncStep2, after an integrity audit of the live file set.
 */
export class SyncSession {
  readonly workspaceId: string;
  readonly workspaceDocId: string;
  private readonly docs: SessionDocuments;
  private readonly clock: () => number;
  private readonly fallbackMs: number;
  private readonly retryMs: number;
  private readonly progressEvery: number;
  private readonly releaseAfterMs: number | undefined;

  private phase: Phase = 'idle';
  private currentStatus: SyncStatus = 'disconnected';
  private workspaceStep1SentAt = 0;
  private workspaceStep2Received = false;
  private syncCompleteReceived = false;
  private filesSyncedByServer: number | undefined;
  private fallbackStartedAt: number | undefined;
  private syncedReported = false;
  /**
   * Bodies whose SyncStep1 was sent and that await the server's SyncStep2 (body name → sent at).
   * A body name is the path of a path-keyed file, the UUID key of a doc-id file
   * ({@link SessionWorkspaceDoc.bodyNames}).
   */
  private readonly pending = new Map<string, number>();
  /** Bodies that received the server's SyncStep2 on this connection. */
  private readonly synced = new Set<string>();
  /**
   * Old path → new path of remote renames of path-keyed files (late frames for the old path go
   * to the new doc). Doc-id files keep their body name across renames: nothing to track.
   */
  private readonly renamedFrom = new Map<string, string>();
  private bootstrapTotal = 0;
  /** Live paths that have no valid body doc id (e.g. over 255 bytes), already reported once. */
  private readonly unusablePaths = new Set<string>();
  /**
   * Body names this client focuses (docs/protocol.md#text-frames-json, `focus`): kept across
   * connections and announced again on every `Connected`.
   */
  private readonly focused = new Set<string>();
  /** Local changes, their acknowledgement and released bodies (`releaseUnfocusedBodiesAfterMs`). */
  private readonly ledger = new BodyReleaseLedger();

  constructor(options: SyncSessionOptions) {
    this.workspaceId = options.workspaceId;
    this.workspaceDocId = workspaceDocId(options.workspaceId);
    this.docs = options.documents;
    this.clock = options.clock ?? Date.now;
    this.fallbackMs = options.syncCompleteFallbackMs ?? 3000;
    this.retryMs = options.retryAfterMs ?? 20000;
    this.progressEvery = options.progressEvery ?? 50;
    this.releaseAfterMs = options.releaseUnfocusedBodiesAfterMs;
  }

  /** Current status. */
  get status(): SyncStatus {
    return this.currentStatus;
  }

  /** Whether `Synced` has been reported on the current connection. */
  get isSynced(): boolean {
    return this.syncedReported;
  }

  /** Body names of bodies still waiting for the server's SyncStep2. */
  pendingBodies(): string[] {
    return [...this.pending.keys()];
  }

  /** Body names of bodies that received the server's SyncStep2 on this connection. */
  syncedBodies(): string[] {
    return [...this.synced];
  }

  /**
   * The files this client focuses (`Focus` / `Unfocus` events), sorted: each focused body under
   * its file's current path (its body name when the workspace has no such file).
   */
  get focusedPaths(): string[] {
    return [...this.focused].map((name) => this.docs.workspace.pathOfBody(name) ?? name).sort();
  }

  /** Body names of released bodies (`releaseUnfocusedBodiesAfterMs`), not loaded until needed. */
  releasedBodies(): string[] {
    return this.ledger.released();
  }

  /** `files_synced` of the server's `sync_complete`, when received. */
  get serverFileCount(): number | undefined {
    return this.filesSyncedByServer;
  }

  /** Processes one event and returns the actions to execute, in order. */
  handle(event: SessionEvent): SessionAction[] {
    const out: SessionAction[] = [];
    switch (event.type) {
      case 'Connected':
        this.onConnected(out);
        break;
      case 'BinaryMessage':
        this.onBinary(event.data, out);
        break;
      case 'TextMessage':
        this.onText(event.text, out);
        break;
      case 'Disconnected':
        this.onDisconnected(out);
        break;
      case 'LocalUpdate':
        this.onLocalUpdate(event.docId, event.update, out);
        break;
      case 'Focus':
      case 'Unfocus':
        this.changeFocus(event.paths, event.type === 'Focus', out);
        break;
      case 'Save':
        this.onSave(event.docId, out);
        break;
      case 'Tick':
        this.onTick(out);
        break;
      case 'SnapshotImported':
        if (this.phase === 'handshake') out.push({ type: 'SendText', text: '{"type":"FilesReady"}' });
        break;
    }
    if (this.phase === 'active') this.checkSynced(out, event.type === 'Tick');
    return out;
  }

  // ---------------------------------------------------------------------------------------------

  private emit(out: SessionAction[], event: SyncEvent): void {
    out.push({ type: 'Emit', event });
  }

  private setStatus(out: SessionAction[], status: SyncStatus): void {
    if (this.currentStatus === status) return;
    this.currentStatus = status;
    this.emit(out, { type: 'StatusChanged', status });
  }

  private resetConnectionState(): void {
    this.workspaceStep2Received = false;
    this.syncCompleteReceived = false;
    this.filesSyncedByServer = undefined;
    this.fallbackStartedAt = undefined;
    this.syncedReported = false;
    this.pending.clear();
    this.synced.clear();
    this.bootstrapTotal = 0;
    this.ledger.newConnection();
  }

  private onConnected(out: SessionAction[]): void {
    this.resetConnectionState();
    this.phase = 'handshake';
    this.sendWorkspaceStep1(out);
    // The server forgets a connection's focus when it closes: announce the whole set again.
    this.sendFocus('focus', [...this.focused], out);
    this.setStatus(out, 'connected');
  }

  /**
   * Adds `paths` to the focus set (or removes them) and tells the server about the ones that
   * changed, when connected. A path is resolved to its body name (a doc-id file's key), so the
   * focus follows the body doc the session syncs; an invalid path is skipped with an `Error`.
   */
  private changeFocus(paths: readonly string[], add: boolean, out: SessionAction[]): void {
    const names = this.docs.workspace.bodyNames();
    const changed: string[] = [];
    let reloaded = false;
    for (const raw of paths) {
      const path = tryNormalizePath(raw);
      const name =
        path === null
          ? undefined
          : (names.get(path) ??
            [...this.focused].find((n) => this.docs.workspace.pathOfBody(n) === path) ??
            path);
      if (name === undefined || tryBodyDocId(this.workspaceId, name) === undefined) {
        const verb = add ? 'focus' : 'unfocus';
        this.emit(out, { type: 'Error', message: `cannot ${verb} ${JSON.stringify(raw)}: invalid path` });
        continue;
      }
      if (add && this.ledger.reload(name, this.clock())) reloaded = true;
      if (add === this.focused.has(name)) continue;
      if (add) this.focused.add(name);
      else this.focused.delete(name);
      changed.push(name);
    }
    this.sendFocus(add ? 'focus' : 'unfocus', changed, out);
    if (reloaded && this.phase === 'active') this.bootstrapBodies(out);
  }

  /** Sends `focus`/`unfocus` for body names when a connection is open. */
  private sendFocus(type: 'focus' | 'unfocus', names: readonly string[], out: SessionAction[]): void {
    if (this.phase === 'idle') return;
    const docIds = names.map((name) => bodyDocId(this.workspaceId, name));
    for (const text of focusMessages(type, docIds)) out.push({ type: 'SendText', text });
  }

  private onDisconnected(out: SessionAction[]): void {
    this.phase = 'idle';
    this.resetConnectionState();
    this.setStatus(out, 'disconnected');
  }

  private sendWorkspaceStep1(out: SessionAction[]): void {
    this.workspaceStep1SentAt = this.clock();
    const step1 = encodeSyncMessage(SyncMessageType.SyncStep1, this.docs.workspace.getSyncState());
    out.push({ type: 'SendBinary', data: encodeFrame(this.workspaceDocId, step1) });
  }

  private sendBodyStep1(name: string, docId: string, out: SessionAction[]): void {
    const step1 = encodeSyncMessage(SyncMessageType.SyncStep1, this.docs.bodies.get(name).getSyncState());
    out.push({ type: 'SendBinary', data: encodeFrame(docId, step1) });
  }

  /**
   * The body doc id of a live path, or `undefined` when the path cannot be synced (another client
   * wrote an entry whose doc id is invalid, e.g. over 255 bytes): such a path is skipped and
   * reported once with an `Error` event instead of throwing out of {@link handle}.
   */
  private usableBodyDocId(path: string, name: string, out: SessionAction[]): string | undefined {
    try {
      return bodyDocId(this.workspaceId, name);
    } catch (err) {
      if (!this.unusablePaths.has(path)) {
        this.unusablePaths.add(path);
        const why = err instanceof Error ? err.message : String(err);
        this.emit(out, {
          type: 'Error',
          message: `skipping ${JSON.stringify(path)}: no valid body doc id (${why})`,
        });
      }
      return undefined;
    }
  }

  private transitionToActive(out: SessionAction[]): void {
    if (this.phase === 'active') return;
    this.phase = 'active';
    this.setStatus(out, 'syncing');
    this.bootstrapBodies(out);
  }

  /** Sends a body SyncStep1 for every live file not yet pending or synced (no duplicates). */
  private bootstrapBodies(out: SessionAction[]): number {
    const now = this.clock();
    let queued = 0;
    for (const [path, name] of this.docs.workspace.bodyNames()) {
      if (this.pending.has(name) || this.synced.has(name) || this.ledger.isReleased(name)) continue;
      const docId = this.usableBodyDocId(path, name, out);
      if (docId === undefined) continue;
      this.pending.set(name, now);
      this.sendBodyStep1(name, docId, out);
      queued++;
    }
    if (queued > 0) {
      this.bootstrapTotal += queued;
      this.emit(out, { type: 'Progress', completed: this.synced.size, total: this.bootstrapTotal });
    }
    return queued;
  }

  private onLocalUpdate(docId: string, update: Uint8Array, out: SessionAction[]): void {
    const canonical = this.canonicalDocId(docId);
    const name = canonical === undefined ? undefined : this.bodyNameOf(canonical);
    // Counted in every phase: a change is unacknowledged until a `saved` covers it.
    if (name !== undefined) this.ledger.localChange(name, this.clock());
    const reloaded = name !== undefined && this.ledger.reload(name, this.clock());
    // Before the session is active, the handshake (our SyncStep1s and answers to the server's)
    // carries every local change, so nothing is lost by not sending it now.
    if (this.phase !== 'active') return;
    if (canonical === undefined) {
      this.emit(out, {
        type: 'Error',
        message: `local update for an invalid doc id ${JSON.stringify(docId)}`,
      });
      return;
    }
    out.push({
      type: 'SendBinary',
      data: encodeFrame(canonical, encodeSyncMessage(SyncMessageType.Update, update)),
    });
    if (canonical === this.workspaceDocId || reloaded) this.bootstrapBodies(out);
  }

  /** The body name of a canonical body doc id of this workspace; `undefined` for the workspace doc. */
  private bodyNameOf(canonicalDocId: string): string | undefined {
    if (canonicalDocId === this.workspaceDocId) return undefined;
    return canonicalDocId.slice(bodyDocIdPrefix(this.workspaceId).length);
  }

  /** The application's `save` for `docId`: sent (and its `saved` reported) when connected. */
  private onSave(docId: string, out: SessionAction[]): void {
    if (this.phase === 'idle') return;
    const canonical = this.canonicalDocId(docId);
    const name = canonical === undefined ? undefined : this.bodyNameOf(canonical);
    this.ledger.saveSent(docId, name, true);
    out.push({ type: 'SendText', text: JSON.stringify({ action: 'save', doc: docId }) });
  }

  /** The canonical spelling of a doc id of this workspace (`body:ws/./a.md` → `body:ws/a.md`). */
  private canonicalDocId(docId: string): string | undefined {
    if (docId === this.workspaceDocId) return docId;
    const prefix = bodyDocIdPrefix(this.workspaceId);
    if (!docId.startsWith(prefix)) return undefined;
    const path = tryNormalizePath(docId.slice(prefix.length));
    if (path === null) return undefined;
    try {
      return bodyDocId(this.workspaceId, path);
    } catch {
      return undefined;
    }
  }

  private onTick(out: SessionAction[]): void {
    if (this.phase === 'idle') return;
    const now = this.clock();
    if (!this.workspaceStep2Received && now - this.workspaceStep1SentAt >= this.retryMs) {
      this.sendWorkspaceStep1(out);
    }
    if (this.phase !== 'active') return;
    for (const [name, sentAt] of this.pending) {
      if (now - sentAt >= this.retryMs) {
        this.pending.set(name, now);
        this.sendBodyStep1(name, bodyDocId(this.workspaceId, name), out);
      }
    }
    if (this.releaseAfterMs !== undefined && this.syncedReported) this.releaseIdleBodies(now, out);
  }

  /**
   * Releases synced, unfocused, idle bodies whose local changes the server confirmed durable, and
   * asks for that confirmation (`save`) where it is missing; at most {@link RELEASES_PER_TICK}.
   */
  private releaseIdleBodies(now: number, out: SessionAction[]): void {
    let budget = RELEASES_PER_TICK;
    for (const name of [...this.synced]) {
      if (budget === 0) return;
      if (this.focused.has(name)) continue;
      const docId = bodyDocId(this.workspaceId, name);
      const decision = this.ledger.decide(name, docId, now, this.releaseAfterMs ?? 0);
      if (decision === 'keep') continue;
      budget--;
      if (decision === 'save') {
        this.ledger.saveSent(docId, name, false);
        out.push({ type: 'SendText', text: JSON.stringify({ action: 'save', doc: docId }) });
        continue;
      }
      // Unsubscribe first: what the server still sends for it is ignored until it is loaded again.
      out.push({ type: 'SendText', text: JSON.stringify({ action: 'leave', doc: docId }) });
      this.synced.delete(name);
      this.ledger.markReleased(name);
      this.docs.bodies.release(name);
      this.emit(out, { type: 'BodyReleased', path: this.docs.workspace.pathOfBody(name) ?? name });
    }
  }

  // ---------------------------------------------------------------------------------------------

  private onBinary(data: Uint8Array, out: SessionAction[]): void {
    if (this.phase === 'idle') return;
    const frame = decodeFrame(data);
    if (frame === undefined) {
      this.emit(out, { type: 'Error', message: 'malformed binary frame from server' });
      return;
    }
    const parsed = isDocId(frame.docId) ? parseDocId(frame.docId) : undefined;
    const messages = decodeMessages(frame.payload);
    if (parsed === undefined || parsed.workspaceId !== this.workspaceId || messages === undefined) {
      this.emit(out, { type: 'Error', message: `unusable frame for ${JSON.stringify(frame.docId)}` });
      return;
    }
    // A server that goes straight to binary sync: no Files-Ready handshake.
    if (this.phase === 'handshake') this.transitionToActive(out);
    if (parsed.kind === 'workspace') {
      for (const m of messages) if (m.kind === 'sync') this.onWorkspaceSync(m.subtype, m.data, out);
    } else {
      for (const m of messages) if (m.kind === 'sync') this.onBodySync(parsed.path, m.subtype, m.data, out);
    }
  }

  private onWorkspaceSync(subtype: 0 | 1 | 2, data: Uint8Array, out: SessionAction[]): void {
    if (subtype === SyncMessageType.SyncStep1) {
      const reply = encodeSyncMessage(
        SyncMessageType.SyncStep2,
        this.docs.workspace.encodeStateAsUpdate(data),
      );
      out.push({ type: 'SendBinary', data: encodeFrame(this.workspaceDocId, reply) });
      return;
    }
    const changes = this.applyWorkspaceUpdate(data, out);
    if (subtype === SyncMessageType.SyncStep2 && !this.workspaceStep2Received) {
      this.workspaceStep2Received = true;
      this.fallbackStartedAt = this.clock();
    }
    if (hasChanges(changes)) this.emit(out, { type: 'FilesChanged', changes });
    this.bootstrapBodies(out);
  }

  private applyWorkspaceUpdate(update: Uint8Array, out: SessionAction[]): FileChangeSet {
    let changes: FileChangeSet;
    try {
      changes = this.docs.workspace.applyRemoteUpdate(update);
    } catch (err) {
      this.emit(out, { type: 'Error', message: `workspace update failed: ${String(err)}` });
      return NO_CHANGES;
    }
    if (changes.renamed.length > 0) {
      // Only a path-keyed body is named by its path; a doc-id file keeps its body on a rename.
      const names = this.docs.workspace.bodyNames();
      for (const { from, to } of changes.renamed) if (names.get(to) === to) this.moveBody(from, to, out);
    }
    for (const path of changes.deleted) this.pending.delete(path);
    return changes;
  }

  /** Moves a body doc and every tracking entry (focus included) from `from` to `to` (remote rename). */
  private moveBody(from: string, to: string, out: SessionAction[]): void {
    const bodies = this.docs.bodies;
    if (bodies.has(from)) {
      if (bodies.has(to)) {
        // Frames for the new path arrived first: merge the old state in (same history, no dupes).
        bodies.get(to).applyRemoteUpdate(bodies.get(from).encodeStateAsUpdate());
      } else {
        bodies.rename(from, to);
      }
    }
    this.ledger.forget(from);
    this.renamedFrom.set(from, to);
    for (const [old, target] of this.renamedFrom) if (target === from) this.renamedFrom.set(old, to);
    this.renamedFrom.delete(to);
    if (this.focused.delete(from)) {
      this.sendFocus('unfocus', [from], out);
      if (!this.focused.has(to)) {
        this.focused.add(to);
        this.sendFocus('focus', [to], out);
      }
    }
    // The doc under the new id still has to be exchanged with the server: re-bootstrap it,
    // keeping the progress accounting of the old entry.
    if (this.pending.delete(from) || this.synced.delete(from)) this.bootstrapTotal--;
  }

  private onBodySync(name: string, subtype: 0 | 1 | 2, data: Uint8Array, out: SessionAction[]): void {
    // A released body is not loaded: frames still in flight since its `leave` are dropped (it
    // syncs from its SyncStep1 again when it is loaded).
    if (this.ledger.isReleased(name)) return;
    const alias = this.renamedFrom.get(name);
    if (alias !== undefined && !this.docs.workspace.livePaths().includes(name)) {
      // Late frame for a path renamed away: keep one body stream, never answer for the old id.
      if (subtype !== SyncMessageType.SyncStep1 && !this.ledger.isReleased(alias))
        this.docs.bodies.get(alias).applyRemoteUpdate(data);
      return;
    }
    const body = this.docs.bodies.get(name);
    if (subtype === SyncMessageType.SyncStep1) {
      const reply = encodeSyncMessage(SyncMessageType.SyncStep2, body.encodeStateAsUpdate(data));
      out.push({ type: 'SendBinary', data: encodeFrame(bodyDocId(this.workspaceId, name), reply) });
      this.ledger.exchangedState(name);
      return;
    }
    const path = this.docs.workspace.pathOfBody(name) ?? name;
    let changed = false;
    try {
      changed = body.applyRemoteUpdate(data);
    } catch (err) {
      this.emit(out, { type: 'Error', message: `body update for ${path} failed: ${String(err)}` });
      return;
    }
    if (changed) this.emit(out, { type: 'BodyChanged', path });
    if (changed || subtype === SyncMessageType.SyncStep2) this.ledger.touched(name, this.clock());
    if (subtype === SyncMessageType.SyncStep2 && this.pending.delete(name)) {
      this.synced.add(name);
      const done = this.synced.size;
      if (done % this.progressEvery === 0 || this.pending.size === 0) {
        this.emit(out, { type: 'Progress', completed: done, total: this.bootstrapTotal });
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  private onText(text: string, out: SessionAction[]): void {
    if (this.phase === 'idle') return;
    const msg = parseServerMessage(text);
    if (msg === undefined) return;
    this.onControl(msg, out);
  }

  private onControl(msg: ServerControlMessage, out: SessionAction[]): void {
    switch (msg.type) {
      case 'file_manifest':
        if (this.phase !== 'handshake') return;
        if (msg.client_is_new === true) out.push({ type: 'DownloadSnapshot', workspaceId: this.workspaceId });
        else out.push({ type: 'SendText', text: '{"type":"FilesReady"}' });
        return;
      case 'crdt_state': {
        const state = base64ToBytes(msg.state);
        if (state === undefined) {
          this.emit(out, { type: 'Error', message: 'crdt_state is not valid base64' });
          return;
        }
        const changes = this.applyWorkspaceUpdate(state, out);
        this.workspaceStep2Received = true;
        this.fallbackStartedAt ??= this.clock();
        if (hasChanges(changes)) this.emit(out, { type: 'FilesChanged', changes });
        this.transitionToActive(out);
        this.bootstrapBodies(out);
        return;
      }
      case 'sync_complete':
        this.syncCompleteReceived = true;
        this.filesSyncedByServer = msg.files_synced;
        return;
      case 'sync_progress':
        // Our own progress (bodies received) is what we report; the server's is informational.
        return;
      case 'saved':
        if (this.ledger.savedReceived(msg.doc)) this.emit(out, { type: 'Saved', docId: msg.doc });
        return;
      case 'error': {
        const canonical = msg.doc === undefined ? undefined : this.canonicalDocId(msg.doc);
        const name = canonical === undefined ? undefined : this.bodyNameOf(canonical);
        if (msg.code === 'read_only' && name !== undefined) this.ledger.refusedChange(name);
        this.emit(out, { type: 'ServerError', code: msg.code, message: msg.message, docId: msg.doc });
        return;
      }
      case 'peer_joined':
      case 'peer_left':
        this.emit(out, { type: 'PeersChanged', workspaceId: msg.workspace, peerCount: msg.peer_count });
        return;
      case 'focus_list_changed':
        this.emit(out, { type: 'FocusListChanged', files: msg.files });
        return;
      case 'pong':
        this.emit(out, { type: 'Pong' });
        return;
    }
  }

  private workspaceHandshakeComplete(): boolean {
    if (!this.workspaceStep2Received) return false;
    if (this.syncCompleteReceived) return true;
    return this.fallbackStartedAt !== undefined && this.clock() - this.fallbackStartedAt >= this.fallbackMs;
  }

  /** Reports `Synced` when everything arrived, after the integrity audit. */
  private checkSynced(out: SessionAction[], audit: boolean): void {
    if (this.syncedReported || !this.workspaceHandshakeComplete()) return;
    // Pending entries of deleted files are dropped as deletes arrive; the full scan below runs
    // when nothing is pending any more, or on a Tick.
    if (this.pending.size > 0 && !audit) return;
    // Integrity audit: drop pending entries of files no longer live, re-queue live files that
    // are not synced (or whose body doc is missing).
    const liveSet = new Set(this.docs.workspace.bodyNames().values());
    for (const name of [...this.pending.keys()]) if (!liveSet.has(name)) this.pending.delete(name);
    if (this.pending.size > 0) return;
    for (const name of liveSet) if (!this.docs.bodies.has(name)) this.synced.delete(name);
    if (this.bootstrapBodies(out) > 0) return;
    this.syncedReported = true;
    const last = [...out].reverse().find((a) => a.type === 'Emit' && a.event.type === 'Progress');
    if (last === undefined)
      this.emit(out, { type: 'Progress', completed: this.synced.size, total: this.bootstrapTotal });
    this.setStatus(out, 'synced');
  }
}

function base64ToBytes(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** `body:{ws}/{name}`, or `undefined` when that is no valid doc id (e.g. over 255 bytes). */
function tryBodyDocId(workspaceId: string, name: string): string | undefined {
  try {
    return bodyDocId(workspaceId, name);
  } catch {
    return undefined;
  }
}

/** Canonicalizes a path for use as a session key; throws on invalid paths. */
export function canonicalSessionPath(path: string): string {
  const p = tryNormalizePath(path);
  if (p === null) throw new Error(`invalid path: ${JSON.stringify(path)}`);
  return p;
}
