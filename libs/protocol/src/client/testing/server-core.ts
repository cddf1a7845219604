/**
 * An in-process sync server for tests: the `/sync2` rules of docs/protocol.md#the-multiplexed-endpoint-sync2 over in-memory
 * Y.Docs, running the doc service's own {@link DocSyncHandler} per document, independent of
 * the transport. {@link startTestSyncServer} puts it on a real `ws`
 * socket; session tests connect it to a {@link SyncSession} through a faulty in-memory pipe.
 */
import * as Y from 'yjs';
import { DocIdError, isDocId, parseDocId, WORKSPACE_DOC_PREFIX, workspaceDocId } from '@diaryx-sync/crdt';
import { decodeFrame, encodeFrame } from '../../framing';
import { parseClientControl } from '../../control';
import { CloseCode } from '../../codes';
import { isProtocolError } from '../../errors';
import { DocSyncHandler } from '../../doc-sync-handler';
import type { Role } from '../../roles';

/** Options of a {@link TestSyncServerCore}. */
export interface TestSyncServerOptions {
  /** Workspaces that exist (frames for others close with 4403). */
  readonly workspaces: readonly string[];
  /** Send `sync_complete` after the first workspace SyncStep1 (default true). */
  readonly sendSyncComplete?: boolean;
}

/** What the transport gives the core for one connection. */
export interface TestConnectionSink {
  send(data: Uint8Array | string): void;
  close(code: number, reason: string): void;
}

/** The core's handle for one connection. */
export interface TestConnection {
  receive(data: Uint8Array | string): void;
  disconnect(): void;
}

interface ConnState {
  readonly id: string;
  readonly sink: TestConnectionSink;
  readonly role: Role;
  readonly subscribed: Set<string>;
  sentSyncComplete: boolean;
  closed: boolean;
}

/** The server side of the test server: documents, subscriptions, sync answers, fan-out. */
export class TestSyncServerCore {
  /** Server documents by doc id. */
  readonly docs = new Map<string, Y.Doc>();
  /** The sync handler of each document. */
  readonly handlers = new Map<string, DocSyncHandler>();
  private nextConnectionId = 0;
  /** Frames received per doc id (for assertions). */
  readonly framesByDoc = new Map<string, number>();
  private readonly options: TestSyncServerOptions;
  private readonly connections = new Set<ConnState>();

  constructor(options: TestSyncServerOptions) {
    this.options = options;
  }

  /** The doc, created when missing. */
  doc(docId: string): Y.Doc {
    return this.handler(docId).doc;
  }

  /** The handler of a document, created (with an empty doc) when missing. */
  handler(docId: string): DocSyncHandler {
    let handler = this.handlers.get(docId);
    if (handler === undefined) {
      handler = new DocSyncHandler(new Y.Doc());
      this.handlers.set(docId, handler);
      this.docs.set(docId, handler.doc);
    }
    return handler;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Live files of a workspace doc (`files` entries without `deleted: true`). */
  liveFiles(workspaceId: string): string[] {
    const files = this.doc(workspaceDocId(workspaceId)).getMap<string>('files');
    const out: string[] = [];
    files.forEach((json, key) => {
      try {
        if ((JSON.parse(json) as { deleted?: boolean }).deleted !== true) out.push(key);
      } catch {
        /* not a file entry */
      }
    });
    return out.sort();
  }

  /** Registers a connection. */
  connect(sink: TestConnectionSink, role: Role = 'editor'): TestConnection {
    const state: ConnState = {
      id: `test:${++this.nextConnectionId}`,
      sink,
      role,
      subscribed: new Set(),
      sentSyncComplete: false,
      closed: false,
    };
    this.connections.add(state);
    return {
      receive: (data) => {
        if (state.closed) return;
        if (typeof data === 'string') this.onText(state, data);
        else this.onBinary(state, data);
      },
      disconnect: () => {
        state.closed = true;
        this.connections.delete(state);
        this.left(state);
      },
    };
  }

  /** Closes every connection with `code`. */
  closeAll(code: number, reason: string): void {
    for (const c of [...this.connections]) this.fail(c, code, reason);
  }

  private fail(state: ConnState, code: number, reason: string): void {
    if (state.closed) return;
    state.closed = true;
    this.connections.delete(state);
    this.left(state);
    state.sink.close(code, reason);
  }

  private left(state: ConnState): void {
    for (const docId of state.subscribed) {
      const removal = this.handlers.get(docId)?.connectionLeft(state.id);
      if (removal !== undefined) this.broadcast(state, docId, removal);
    }
  }

  private broadcast(from: ConnState, docId: string, payload: Uint8Array): void {
    const frame = encodeFrame(docId, payload);
    for (const other of this.connections) {
      if (other !== from && other.subscribed.has(docId)) other.sink.send(frame);
    }
  }

  private onText(state: ConnState, text: string): void {
    const parsed = parseClientControl(text);
    if (!parsed.ok) {
      state.sink.send(parsed.reply);
      return;
    }
    const m = parsed.message;
    if ('action' in m) {
      if (!this.allowed(m.doc)) return this.fail(state, CloseCode.Forbidden, 'forbidden');
      if (m.action === 'save') state.sink.send(JSON.stringify({ type: 'saved', doc: m.doc }));
      else state.subscribed.delete(m.doc);
      return;
    }
    if (m.type === 'ping') state.sink.send('{"type":"pong"}');
  }

  private allowed(docId: string): boolean {
    return isDocId(docId) && this.options.workspaces.includes(parseDocId(docId).workspaceId);
  }

  private onBinary(state: ConnState, data: Uint8Array): void {
    let docId: string;
    let payload: Uint8Array;
    try {
      const frame = decodeFrame(data);
      docId = frame.docId;
      payload = frame.payload;
      parseDocId(docId);
    } catch (err) {
      return this.fail(
        state,
        CloseCode.ProtocolError,
        isProtocolError(err) || err instanceof DocIdError ? err.message.slice(0, 120) : 'malformed frame',
      );
    }
    if (!this.allowed(docId)) return this.fail(state, CloseCode.Forbidden, 'forbidden');
    const isNewSubscription = !state.subscribed.has(docId);
    state.subscribed.add(docId);
    this.framesByDoc.set(docId, (this.framesByDoc.get(docId) ?? 0) + 1);
    let result;
    try {
      result = this.handler(docId).handle({ id: state.id, role: state.role }, payload);
    } catch (err) {
      return this.fail(
        state,
        isProtocolError(err) ? err.closeCode : CloseCode.ProtocolError,
        'malformed payload',
      );
    }
    // Each reply as its own frame (SyncStep2, then our SyncStep1), like the doc service; a new
    // subscriber also gets the doc's current awareness states (docs/protocol.md, Awareness).
    for (const reply of result.replies) state.sink.send(encodeFrame(docId, reply));
    const snapshot = isNewSubscription ? this.handler(docId).awarenessSnapshot() : undefined;
    if (snapshot !== undefined) state.sink.send(encodeFrame(docId, snapshot));
    if (result.broadcast !== undefined) this.broadcast(state, docId, result.broadcast);
    if (result.readOnlyViolation)
      state.sink.send(JSON.stringify({ type: 'error', code: 'read_only', doc: docId }));
    if (result.error !== undefined) return this.fail(state, result.error.closeCode, 'bad update');
    const answeredWorkspaceStep1 = docId.startsWith(WORKSPACE_DOC_PREFIX) && result.replies.length > 0;
    if (answeredWorkspaceStep1 && !state.sentSyncComplete && this.options.sendSyncComplete !== false) {
      state.sentSyncComplete = true;
      const n = isDocId(docId) ? this.liveFiles(parseDocId(docId).workspaceId).length : 0;
      state.sink.send(JSON.stringify({ type: 'sync_complete', files_synced: n }));
    }
  }
}
