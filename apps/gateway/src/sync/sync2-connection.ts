/**
 * One `/sync2` socket (docs/protocol.md#the-multiplexed-endpoint-sync2): binary frames `[u8 len][docId][payload]` for many docs,
 * plus JSON control messages (focus/unfocus, leave, save, ping).
 */
import {
  decodeFrame,
  decodeMessages,
  encodeFrame,
  encodeServerControl,
  focusLimitError,
  parseClientControl,
  pongMessage,
  readOnlyError,
  savedMessage,
  syncCompleteMessage,
  type ProtocolMessage,
} from '@diaryx-sync/protocol';
import { workspaceDocId } from '@diaryx-sync/crdt';
import { ClientConnection } from './client-connection';
import type { DocRef } from './sync-hub';

/** Metric label (`diaryx_gateway_frames_*{type}`) of each y-protocols message type. */
const TYPE_LABEL: Record<ProtocolMessage['type'], string> = {
  syncStep1: 'sync_step1',
  syncStep2: 'sync_step2',
  update: 'update',
  awareness: 'awareness',
  permissionDenied: 'auth',
  queryAwareness: 'query_awareness',
};

/** The metric label of a received message (both endpoints). */
export function messageLabel(m: ProtocolMessage): string {
  return TYPE_LABEL[m.type];
}

/** True for messages that may change a document. */
export function changes(m: ProtocolMessage): boolean {
  return m.type === 'syncStep2' || m.type === 'update';
}

/** Framed copies of large reply payloads, by payload object (see {@link framedReply}). */
const framedLarge = new WeakMap<Uint8Array, { docId: string; framed: Uint8Array }>();

/**
 * `encodeFrame(docId, payload)`. A large payload (a big doc's SyncStep2) arrives as one object
 * shared by every joiner of a join storm (the stored-payload cache, `@diaryx-sync/bus`
 * `payload-store.ts`): it is framed once, not copied once per socket.
 */
function framedReply(docId: string, payload: Uint8Array): Uint8Array {
  if (payload.length < 64 * 1024) return encodeFrame(docId, payload);
  const known = framedLarge.get(payload);
  if (known?.docId === docId) return known.framed;
  const framed = encodeFrame(docId, payload);
  framedLarge.set(payload, { docId, framed });
  return framed;
}

/** See module doc. */
export class Sync2Connection extends ClientConnection {
  readonly endpoint = 'sync2' as const;
  /** Focused body paths per workspace (the complete set is sent on every change); created on first focus. */
  private focus: Map<string, Set<string>> | undefined;

  deliverReply(
    docId: string,
    payloads: Uint8Array[],
    readOnlyViolation: boolean,
    syncComplete: number | null,
  ): void {
    for (const p of payloads) this.sendBinary(framedReply(docId, p), 'reply');
    if (readOnlyViolation) this.sendText(encodeServerControl(readOnlyError(docId)));
    // Only the first SyncStep1 of a doc is followed by `sync_complete` (until the client leaves
    // it), also when the shard owner reloaded the doc or changed; none for a doc it has left.
    if (syncComplete === null) return;
    const use = this.docs.get(docId);
    if (!use || use.syncCompleted) return;
    use.syncCompleted = true;
    this.sendText(encodeServerControl(syncCompleteMessage(syncComplete)));
  }

  deliverBroadcast(_docId: string, framed: () => Uint8Array): void {
    this.sendBinary(framed(), 'broadcast');
  }

  deliverText(text: string): void {
    this.sendText(text);
  }

  protected async handleBinary(data: Buffer): Promise<void> {
    const frame = decodeFrame(data, { maxFrameBytes: this.ctx.settings.maxFrameBytes });
    // A doc id already in use was validated when it was first seen.
    const known = this.docs.get(frame.docId);
    const parsed = known ? undefined : this.parseDoc(frame.docId);
    const messages = decodeMessages(frame.payload, 'sync2');
    this.chargeRate(messages);
    for (const m of messages) this.ctx.metrics.framesReceived.inc({ type: messageLabel(m) });
    const doc = known?.ref ?? (await this.useDoc(frame.docId, parsed!));
    this.noteMessages(frame.docId, messages);
    this.forward(doc, frame.payload, messages.some(changes));
  }

  protected async handleText(text: string): Promise<void> {
    const parsed = parseClientControl(text);
    if (!parsed.ok) {
      this.ctx.metrics.framesReceived.inc({ type: 'control' });
      this.sendText(parsed.reply);
      return;
    }
    const msg = parsed.message;
    if ('action' in msg) {
      this.ctx.metrics.framesReceived.inc({ type: msg.action });
      const p = this.parseDoc(msg.doc);
      await this.authorizeWorkspace(p.workspaceId);
      if (this.released) return;
      if (msg.action === 'leave') return this.leave(msg.doc);
      const doc = this.docs.get(msg.doc)?.ref ?? this.ctx.hub.docRef(this.tenant, msg.doc, p.workspaceId);
      // Not awaited: later frames must keep flowing while the barrier waits for acks.
      void this.ctx.hub.save(this, doc).then(() => this.sendText(encodeServerControl(savedMessage(msg.doc))));
      return;
    }
    this.ctx.metrics.framesReceived.inc({ type: msg.type === 'ping' ? 'ping' : 'control' });
    switch (msg.type) {
      case 'ping':
        this.sendText(encodeServerControl(pongMessage()));
        return;
      case 'focus':
      case 'unfocus':
        return this.changeFocus(msg.files, msg.type === 'focus');
      default:
        return; // FilesReady / files_ready: accepted and ignored (no file_manifest from this server)
    }
  }

  protected override async onFirstUse(doc: DocRef): Promise<void> {
    await this.joinWorkspace(doc.workspaceId);
  }

  protected override releaseAll(): void {
    for (const [ws, files] of this.focus ?? []) {
      // A workspace doc `disconnect` clears focus too; send an empty set when that doc was never used.
      if (files.size > 0 && !this.docs.has(workspaceDocId(ws)))
        this.ctx.hub.sendFocus(this, this.tenant, ws, []);
    }
    this.focus = undefined;
    super.releaseAll();
    for (const ws of this.subscribedWorkspaces()) this.ctx.hub.unsubscribeWorkspace(this, this.tenant, ws);
  }

  private leave(docId: string): void {
    const use = this.docs.get(docId);
    if (!use) return;
    this.docs.delete(docId);
    this.ctx.hub.unsubscribeDoc(this, use.ref);
    this.ctx.hub.notifyGone('leave', this, use.ref);
  }

  /** Watches the presence/focus events of an authorized workspace. */
  private async joinWorkspace(workspaceId: string): Promise<void> {
    if (this.released || !this.markWorkspaceSubscribed(workspaceId)) return;
    await this.ctx.hub.subscribeWorkspace(this, this.tenant, workspaceId);
  }

  /**
   * Applies focus/unfocus of body doc ids. Like every doc id on the wire they must be valid and
   * canonical (else 4400, nothing applied) and in an accessible workspace (else 4403);
   * workspace doc ids are ignored (only files are focused). More than `maxFocusPerMessage` ids,
   * or a focus taking the connection beyond `maxFocusPerConnection` paths, is refused with
   * `{"type":"error","code":"focus_limit"}` and not applied (docs/limits.md).
   */
  private async changeFocus(docIds: string[], add: boolean): Promise<void> {
    const { maxFocusPerMessage, maxFocusPerConnection } = this.ctx.settings;
    if (docIds.length > maxFocusPerMessage) {
      this.refuseFocus(`at most ${maxFocusPerMessage} doc ids per focus/unfocus message`);
      return;
    }
    this.chargeFocus(docIds.length);
    const bodies = docIds.map((id) => this.parseDoc(id)).filter((p) => p.kind === 'body');
    const focus = (this.focus ??= new Map());
    if (add) {
      let focused = 0;
      for (const set of focus.values()) focused += set.size;
      const fresh = new Set(
        bodies.filter((p) => !focus.get(p.workspaceId)?.has(p.path)).map((p) => `${p.workspaceId}/${p.path}`),
      );
      if (focused + fresh.size > maxFocusPerConnection) {
        this.refuseFocus(`at most ${maxFocusPerConnection} focused files per connection`);
        return;
      }
    }
    const touched = new Set<string>();
    for (const p of bodies) {
      await this.authorizeWorkspace(p.workspaceId);
      let set = focus.get(p.workspaceId);
      if (!set) focus.set(p.workspaceId, (set = new Set()));
      const before = set.size;
      if (add) set.add(p.path);
      else set.delete(p.path);
      if (set.size !== before || add) touched.add(p.workspaceId);
    }
    for (const ws of touched) {
      await this.joinWorkspace(ws);
      if (this.released) return;
      this.ctx.hub.sendFocus(this, this.tenant, ws, [...(focus.get(ws) ?? [])].sort());
    }
  }

  private refuseFocus(message: string): void {
    this.ctx.metrics.framesDropped.inc({ reason: 'focus_limit' });
    this.sendText(encodeServerControl(focusLimitError(message)));
  }

  private sendBinary(bytes: Uint8Array, type: string): void {
    if (this.out.send(bytes)) {
      this.ctx.metrics.framesSent.inc({ type });
      this.ctx.metrics.bytesSent.inc(bytes.length);
    }
  }

  private sendText(text: string): void {
    if (this.out.send(text)) {
      this.ctx.metrics.framesSent.inc({ type: 'control' });
      this.ctx.metrics.bytesSent.inc(text.length);
    }
  }
}
