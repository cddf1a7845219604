/**
 * An in-process sync server for tests: the `/sync2` rules of PROTOCOL.md §2 over in-memory
 * Y.Docs, independent of the transport. {@link startTestSyncServer} puts it on a real `ws`
 * socket; session tests connect it to a {@link SyncSession} through a faulty in-memory pipe.
 */
import * as Y from 'yjs';
import { decodeFrame, encodeFrame } from '../../framing';
import { parseDocId, tryParseDocId } from '../../doc-id';
import { parseClientControl } from '../../control';
import { CloseCode } from '../../codes';
import { isProtocolError } from '../../errors';
import { decodeMessages, encodeMessages, type ProtocolMessage } from '../../sync';

/** Role of a test connection. */
export type TestRole = 'editor' | 'viewer';

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
  readonly sink: TestConnectionSink;
  readonly role: TestRole;
  readonly subscribed: Set<string>;
  sentSyncComplete: boolean;
  closed: boolean;
}

/** The server side of the test server: documents, subscriptions, sync answers, fan-out. */
export class TestSyncServerCore {
  /** Server documents by doc id. */
  readonly docs = new Map<string, Y.Doc>();
  /** Frames received per doc id (for assertions). */
  readonly framesByDoc = new Map<string, number>();
  private readonly options: TestSyncServerOptions;
  private readonly connections = new Set<ConnState>();

  constructor(options: TestSyncServerOptions) {
    this.options = options;
  }

  /** The doc, created when missing. */
  doc(docId: string): Y.Doc {
    let doc = this.docs.get(docId);
    if (doc === undefined) {
      doc = new Y.Doc();
      this.docs.set(docId, doc);
    }
    return doc;
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Live files of a workspace doc (`files` entries without `deleted: true`). */
  liveFiles(workspaceId: string): string[] {
    const files = this.doc(`workspace:${workspaceId}`).getMap<string>('files');
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
  connect(sink: TestConnectionSink, role: TestRole = 'editor'): TestConnection {
    const state: ConnState = { sink, role, subscribed: new Set(), sentSyncComplete: false, closed: false };
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
    state.sink.close(code, reason);
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
    const parsed = tryParseDocId(docId);
    return parsed !== null && this.options.workspaces.includes(parsed.workspaceId);
  }

  private onBinary(state: ConnState, data: Uint8Array): void {
    let docId: string;
    let messages: ProtocolMessage[];
    try {
      const frame = decodeFrame(data);
      docId = frame.docId;
      parseDocId(docId);
      messages = decodeMessages(frame.payload);
    } catch (err) {
      const reason = isProtocolError(err) ? err.message : 'malformed frame';
      return this.fail(state, CloseCode.ProtocolError, reason.slice(0, 120));
    }
    if (!this.allowed(docId)) return this.fail(state, CloseCode.Forbidden, 'forbidden');
    state.subscribed.add(docId);
    this.framesByDoc.set(docId, (this.framesByDoc.get(docId) ?? 0) + 1);
    const doc = this.doc(docId);
    const replies: ProtocolMessage[] = [];
    let answeredWorkspaceStep1 = false;
    for (const m of messages) {
      if (m.type === 'syncStep1') {
        replies.push({ type: 'syncStep2', update: Y.encodeStateAsUpdate(doc, m.stateVector) });
        replies.push({ type: 'syncStep1', stateVector: Y.encodeStateVector(doc) });
        if (docId.startsWith('workspace:')) answeredWorkspaceStep1 = true;
      } else if (m.type === 'syncStep2' || m.type === 'update') {
        const before = Y.encodeStateVector(doc);
        if (state.role === 'viewer') {
          const probe = new Y.Doc();
          Y.applyUpdate(probe, Y.encodeStateAsUpdate(doc));
          Y.applyUpdate(probe, m.update);
          if (!equalBytes(Y.encodeStateVector(probe), before)) {
            state.sink.send(JSON.stringify({ type: 'error', code: 'read_only', doc: docId }));
          }
          continue;
        }
        Y.applyUpdate(doc, m.update);
        if (!equalBytes(Y.encodeStateVector(doc), before)) {
          const frame = encodeFrame(docId, encodeMessages([{ type: 'update', update: m.update }]));
          for (const other of this.connections) {
            if (other !== state && other.subscribed.has(docId)) other.sink.send(frame);
          }
        }
      }
    }
    if (replies.length > 0) state.sink.send(encodeFrame(docId, encodeMessages(replies)));
    if (answeredWorkspaceStep1 && !state.sentSyncComplete && this.options.sendSyncComplete !== false) {
      state.sentSyncComplete = true;
      const parsed = tryParseDocId(docId);
      const n = parsed === null ? 0 : this.liveFiles(parsed.workspaceId).length;
      state.sink.send(JSON.stringify({ type: 'sync_complete', files_synced: n }));
    }
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
