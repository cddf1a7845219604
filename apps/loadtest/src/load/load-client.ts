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

/** Close codes after which a client reconnects (server restarting, overloaded, or gone away). */
const TRANSIENT_CLOSE_CODES = new Set([1001, 1006, 1011, 1012, 1013]);

export interface LoadClientOptions {
  /** Keep the SyncStep2 of the initial sync in {@link LoadClient.initialState}. */
  keepInitialState?: boolean;
  /**
   * Reconnect after a transient close (1001, 1006, 1011-1013) up to this many times, as a real
   * client does: the new socket announces the client's own state vector, receives what it missed
   * (counted as deliveries) and answers the server's SyncStep1 with its own edits the server
   * lacks (unacknowledged edits are sent again). Default 0.
   */
  reconnects?: number;
}

export class LoadClient {
  private socket!: WebSocket;
  readonly timings: LoadClientTimings = { startedAt: nowMs(), openedAt: NaN, syncedAt: NaN };
  /** The SyncStep2 of the initial sync (kept only with `keepInitialState`). */
  initialState: Uint8Array | null = null;
  closedByUs = false;
  /** The last unexpected close. */
  dropped: { code: number; reason: string } | null = null;
  /** Reconnections made after transient closes. */
  reconnections = 0;
  private own: Y.Doc | null = null;
  private readonly synced: Promise<void>;
  private resolveSynced: () => void = () => undefined;
  private rejectSynced: (err: Error) => void = () => undefined;
  private readonly savedWaiters: Array<() => void> = [];
  private readonly saveFailers: Array<(err: Error) => void> = [];

  constructor(
    readonly id: number,
    readonly wire: Wire,
    readonly docId: string,
    private readonly handlers: LoadClientHandlers = {},
    private readonly options: LoadClientOptions = {},
  ) {
    this.synced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve;
      this.rejectSynced = reject;
    });
    this.synced.catch(() => undefined);
    this.open();
  }

  /** The current socket. */
  get ws(): WebSocket {
    return this.socket;
  }

  private open(): void {
    const { wire, docId, handlers } = this;
    const ws = new WebSocket(wire.socketUrl(docId), { perMessageDeflate: false });
    this.socket = ws;
    ws.binaryType = 'nodebuffer';
    ws.once('open', () => {
      if (Number.isNaN(this.timings.openedAt)) this.timings.openedAt = nowMs();
      const stateVector = this.own ? Y.encodeStateVector(this.own) : new Uint8Array([0]);
      for (const m of wire.subscribe(docId, stateVector)) ws.send(m);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
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
            if (this.options.keepInitialState) this.initialState = m.data;
            this.resolveSynced();
          } else {
            handlers.onRemote?.(this, m.data, now);
          }
        } else if (m.kind === 'update') {
          handlers.onRemote?.(this, m.data, now);
        }
      }
    });
    ws.once('error', (err) => this.rejectSynced(err));
    ws.once('close', (code, reason) => {
      this.rejectSynced(new Error(`closed before sync: ${code} ${reason.toString()}`));
      // A save sent on this socket is never answered now: let the caller retry on the next one.
      for (const fail of this.saveFailers.splice(0))
        fail(new Error(`connection closed (${code}) before saved`));
      this.savedWaiters.length = 0;
      if (this.closedByUs) return;
      this.dropped = { code, reason: reason.toString() };
      handlers.onDrop?.(this, code, reason.toString());
      const synced = !Number.isNaN(this.timings.syncedAt);
      if (synced && TRANSIENT_CLOSE_CODES.has(code) && this.reconnections < (this.options.reconnects ?? 0)) {
        this.reconnections++;
        setTimeout(() => {
          if (!this.closedByUs) this.open();
        }, 250 * this.reconnections);
      }
    });
  }

  /** Resolves once the client has the doc (first SyncStep2); rejects on error/close first. */
  ready(): Promise<void> {
    return this.synced;
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  send(bytes: Uint8Array | string): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(bytes);
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
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      const timer = setTimeout(
        () => fail(new Error(`save of ${this.docId} not answered in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.saveFailers.push(fail);
      this.savedWaiters.push(() => {
        clearTimeout(timer);
        this.saveFailers.splice(this.saveFailers.indexOf(fail), 1);
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
    this.socket.close();
  }

  /** Closes without a handshake (frees the socket at once). */
  terminate(): void {
    this.closedByUs = true;
    this.socket.terminate();
  }
}
