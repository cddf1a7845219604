/**
 * Pieces of the chaos suite (docs/chaos.md): a private `redis-server` the suite may kill, a
 * writer that survives gateway crashes (reconnects, re-sends its whole state, counts a line as
 * acknowledged only after a `saved`), and the report table.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { decodeFrame, decodeMessages, encodeFrame, encodeMessage } from '@diaryx-sync/protocol';
import WebSocket from 'ws';
import * as Y from 'yjs';
import { sleep, waitUntil } from './cluster';

/** A `redis-server` on its own loopback port with no persistence, owned by the suite. */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server and waits until it answers PING. */
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    this.exited = new Promise((r) => child.once('exit', () => r()));
    await waitUntil(
      async () => {
        const r = new Redis(this.url, {
          lazyConnect: true,
          retryStrategy: () => null,
          maxRetriesPerRequest: 0,
        });
        r.on('error', () => undefined);
        try {
          await r.connect();
          return (await r.ping()) === 'PONG';
        } finally {
          r.disconnect();
        }
      },
      10_000,
      `redis-server on ${this.port}`,
    );
  }

  /** SIGKILL (all data is lost: no persistence) and wait for the exit. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }
}

/** Counters shared by the writers. */
export interface WriterStats {
  saves: number;
  saveFailures: number;
  reconnects: number;
  errors: string[];
}

/**
 * One `/sync2` client appending unique lines (`{name}-{n}`) to one body doc. A line is
 * acknowledged once a `save` sent after it is answered `saved` on the same connection. On any
 * close it reconnects and sends SyncStep1 plus its full state, so nothing written is forgotten.
 */
export class ChaosWriter {
  readonly doc = new Y.Doc();
  readonly acknowledged: string[] = [];
  next = 0;
  private pending: string[] = [];
  private ws: WebSocket | undefined;
  private savedWaiter: (() => void) | undefined;
  private closedWaiter: (() => void) | undefined;
  private stopped = false;
  private connecting: Promise<void> | undefined;
  /** Time the current connection's server SyncStep2 arrived (0 while not synced). */
  syncedAt = 0;

  constructor(
    readonly name: string,
    readonly docId: string,
    private readonly url: () => string,
    private readonly stats: WriterStats,
  ) {
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin === this) return;
      this.send(encodeMessage({ type: 'update', update }));
    });
  }

  /** Connection state for failure messages. */
  describe(): string {
    const state = this.ws ? ['connecting', 'open', 'closing', 'closed'][this.ws.readyState] : 'none';
    return `${this.name} socket=${state} reconnecting=${this.connecting !== undefined} synced=${this.syncedAt > 0}`;
  }

  get text(): string {
    return this.doc.getText('body').toString();
  }

  /** Connects (again) until it succeeds or the writer is stopped. */
  connect(): Promise<void> {
    this.connecting ??= this.connectLoop().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Appends one line locally (sent at once when connected, else on reconnect). */
  write(): void {
    const line = `${this.name}-${this.next++}`;
    const text = this.doc.getText('body');
    text.insert(text.length, `${line}\n`);
    this.pending.push(line);
  }

  /** Sends `save`; on `saved` every line written before it is acknowledged. False on failure. */
  async save(timeoutMs = 10_000): Promise<boolean> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.syncedAt === 0) return false;
    const batch = this.pending;
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), timeoutMs);
      const done = (v: boolean) => {
        clearTimeout(timer);
        this.savedWaiter = undefined;
        this.closedWaiter = undefined;
        resolve(v);
      };
      this.savedWaiter = () => done(true);
      this.closedWaiter = () => done(false);
      this.pending = [];
      ws.send(JSON.stringify({ action: 'save', doc: this.docId }));
    });
    this.stats.saves++;
    if (ok) this.acknowledged.push(...batch);
    else {
      this.stats.saveFailures++;
      this.pending = [...batch, ...this.pending];
      // a late `saved` must not be taken for a later save: start over on a fresh connection
      if (this.ws === ws) ws.terminate();
    }
    return ok;
  }

  /** Stops reconnecting and closes the socket. */
  close(): void {
    this.stopped = true;
    this.ws?.terminate();
  }

  /** SyncStep1 plus the whole local state (everything written, also while disconnected). */
  private sendState(): void {
    this.send(encodeMessage({ type: 'syncStep1', stateVector: Y.encodeStateVector(this.doc) }));
    this.send(encodeMessage({ type: 'update', update: Y.encodeStateAsUpdate(this.doc) }));
  }

  private send(payload: Uint8Array): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(encodeFrame(this.docId, payload));
  }

  private async connectLoop(): Promise<void> {
    while (!this.stopped) {
      const ok = await this.open().catch(() => false);
      if (ok) return;
      await sleep(100 + Math.random() * 150);
    }
  }

  private open(): Promise<boolean> {
    return new Promise((resolve) => {
      const ws = new WebSocket(this.url(), { handshakeTimeout: 5000 });
      ws.binaryType = 'nodebuffer';
      ws.once('open', () => {
        this.ws = ws;
        this.syncedAt = 0;
        this.sendState();
        // like a real client: no SyncStep2 within a few seconds (the shard was moving), ask again
        const retry = setInterval(() => {
          if (this.ws !== ws || this.syncedAt > 0) clearInterval(retry);
          else this.sendState();
        }, 3000);
        resolve(true);
      });
      ws.once('error', () => resolve(false));
      ws.on('message', (data: Buffer, isBinary: boolean) => this.onMessage(ws, data, isBinary));
      ws.once('close', () => {
        if (this.ws !== ws) return;
        this.ws = undefined;
        this.syncedAt = 0;
        this.closedWaiter?.();
        if (!this.stopped) {
          this.stats.reconnects++;
          void this.connect();
        }
      });
    });
  }

  private onMessage(ws: WebSocket, data: Buffer, isBinary: boolean): void {
    if (ws !== this.ws) return;
    if (!isBinary) {
      let msg: { type?: string; doc?: string; code?: string; message?: string };
      try {
        msg = JSON.parse(data.toString('utf8')) as typeof msg;
      } catch {
        return;
      }
      if (msg.type === 'saved' && msg.doc === this.docId) this.savedWaiter?.();
      else if (msg.type === 'error') {
        this.stats.errors.push(`${this.name}: ${msg.code} ${msg.message}`);
        this.closedWaiter?.();
      }
      return;
    }
    const frame = decodeFrame(new Uint8Array(data));
    if (frame.docId !== this.docId) return;
    for (const m of decodeMessages(frame.payload, 'sync2')) {
      if (m.type === 'syncStep1') {
        this.send(
          encodeMessage({ type: 'syncStep2', update: Y.encodeStateAsUpdate(this.doc, m.stateVector) }),
        );
      } else if (m.type === 'syncStep2' || m.type === 'update') {
        Y.applyUpdate(this.doc, m.update, this);
        if (m.type === 'syncStep2') this.syncedAt = Date.now();
      }
    }
  }
}

/** One fault injected by the suite and how long the cluster took to recover from it. */
export interface ChaosEvent {
  at: number;
  what: string;
  /** ms until the recovery criterion held (see `criterion`), or null when it never did. */
  recoveryMs: number | null;
  criterion: string;
}

/** The report table of a chaos run. */
export function chaosTable(
  events: ChaosEvent[],
  totals: Record<string, string | number>,
  elapsedMs: number,
): string {
  const rows = events.map(
    (e) =>
      `  ${(e.at / 1000).toFixed(1).padStart(6)} s  ${e.what.padEnd(34)} ${
        e.recoveryMs === null ? 'NOT RECOVERED'.padStart(9) : `${e.recoveryMs} ms`.padStart(9)
      }  ${e.criterion}`,
  );
  return [
    '',
    `chaos run: ${(elapsedMs / 1000).toFixed(1)} s`,
    '      at  fault                              recovery  recovered when',
    ...rows,
    '',
    ...Object.entries(totals).map(([k, v]) => `  ${k.padEnd(40)} ${v}`),
    '',
  ].join('\n');
}

/** Percentile (nearest rank) of `values`. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
