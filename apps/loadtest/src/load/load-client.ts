/**
 * One load client: a WebSocket on one doc, speaking a {@link Wire} dialect. It keeps no replica
 * of the doc: it edits a Y.Doc that holds only its own edits (enough to produce valid Yjs
 * updates) and hands received updates to its owner, who counts markers in them. That keeps a
 * client at a few KB and a delivery at a byte scan, so one process drives thousands of clients.
 */
import WebSocket from 'ws';
import * as Y from 'yjs';
import { nowMs } from './clock';
import { markerText } from './markers';
import type { Wire } from '../wire/wire';

/** Callbacks of a {@link LoadClient}. */
export interface LoadClientHandlers {
  /** A remote update (or a repair SyncStep2 after the initial sync) arrived at `now`. */
  onRemote?(client: LoadClient, update: Uint8Array, now: number): void;
  /** The socket closed (not by {@link LoadClient.close}). */
  onDrop?(client: LoadClient, code: number, reason: string): void;
  /** A server error message (JSON `{"type":"error"}` on /sync2). */
  onError?(client: LoadClient, message: string): void;
}

export interface LoadClientTimings {
  /** When the client started connecting (epoch ms). */
  startedAt: number;
  /** WebSocket open. */
  openedAt: number;
  /** First SyncStep2 received: the client has the doc. */
  syncedAt: number;
}

export class LoadClient {
  readonly ws: WebSocket;
  readonly timings: LoadClientTimings = { startedAt: nowMs(), openedAt: NaN, syncedAt: NaN };
  /** The SyncStep2 of the initial sync (kept only with `keepInitialState`). */
  initialState: Uint8Array | null = null;
  closedByUs = false;
  dropped: { code: number; reason: string } | null = null;
  private own: Y.Doc | null = null;
  private readonly synced: Promise<void>;
  private readonly savedWaiters: Array<() => void> = [];

  constructor(
    readonly id: number,
    readonly wire: Wire,
    readonly docId: string,
    private readonly handlers: LoadClientHandlers = {},
    private readonly keepInitialState = false,
  ) {
    this.ws = new WebSocket(wire.socketUrl(docId), { perMessageDeflate: false });
    this.ws.binaryType = 'nodebuffer';
    this.synced = new Promise<void>((resolve, reject) => {
      this.ws.once('open', () => {
        this.timings.openedAt = nowMs();
        for (const m of wire.subscribe(docId, new Uint8Array([0]))) this.ws.send(m);
      });
      this.ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (!isBinary) return this.onText(data.toString());
        const now = nowMs();
        let messages;
        try {
          messages = wire.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), docId);
        } catch (err) {
          handlers.onError?.(this, `undecodable message: ${(err as Error).message}`);
          return;
        }
        for (const m of messages) {
          if (m.docId !== docId) continue;
          if (m.kind === 'step1') {
            const diff = this.own ? Y.encodeStateAsUpdate(this.own, m.data) : new Uint8Array([0, 0]);
            this.send(wire.step2(docId, diff));
          } else if (m.kind === 'step2') {
            if (Number.isNaN(this.timings.syncedAt)) {
              this.timings.syncedAt = now;
              if (keepInitialState) this.initialState = m.data;
              resolve();
            } else {
              handlers.onRemote?.(this, m.data, now);
            }
          } else if (m.kind === 'update') {
            handlers.onRemote?.(this, m.data, now);
          }
        }
      });
      this.ws.once('error', (err) => reject(err));
      this.ws.once('close', (code, reason) => {
        reject(new Error(`closed before sync: ${code} ${reason.toString()}`));
        if (!this.closedByUs) {
          this.dropped = { code, reason: reason.toString() };
          handlers.onDrop?.(this, code, reason.toString());
        }
      });
    });
    this.synced.catch(() => undefined);
  }

  /** Resolves once the client has the doc (first SyncStep2); rejects on error/close first. */
  ready(): Promise<void> {
    return this.synced;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(bytes: Uint8Array | string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(bytes);
  }

  /** Produces the update that appends `text` to the doc's body (own-edits doc only). */
  makeUpdate(text: string): Uint8Array {
    if (!this.own) this.own = new Y.Doc();
    let update: Uint8Array | null = null;
    const capture = (u: Uint8Array) => (update = u);
    this.own.once('update', capture);
    const body = this.own.getText('body');
    body.insert(body.length, text);
    if (!update) throw new Error('no update produced');
    return update;
  }

  /** Sends the edit that inserts marker `id`; returns the update's size in bytes. */
  edit(id: number): number {
    const update = this.makeUpdate(markerText(id));
    this.send(this.wire.update(this.docId, update));
    return update.byteLength;
  }

  /** Durability barrier (`/sync2` `save`): resolves when the server answered `saved`, or at once when the protocol has none. */
  save(timeoutMs = 30000): Promise<void> {
    const request = this.wire.saveRequest(this.docId);
    if (request === null || !this.isOpen) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`save of ${this.docId} not answered in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.savedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.send(request);
    });
  }

  private onText(text: string): void {
    let msg: { type?: unknown; code?: unknown; message?: unknown; doc?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (msg.type === 'saved' && msg.doc === this.docId) this.savedWaiters.shift()?.();
    else if (msg.type === 'error')
      this.handlers.onError?.(this, `${String(msg.code)}: ${String(msg.message ?? '')}`);
  }

  close(): void {
    this.closedByUs = true;
    this.ws.close();
  }

  /** Closes without a handshake (frees the socket at once). */
  terminate(): void {
    this.closedByUs = true;
    this.ws.terminate();
  }
}
