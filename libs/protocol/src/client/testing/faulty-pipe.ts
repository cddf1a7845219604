import type { SessionAction, SessionEvent, SyncEvent } from '../events';
import type { SyncSession } from '../session';
import { decodeFrame } from '../wire';
import type { Role } from '../../roles';
import type { TestConnection, TestSyncServerCore } from './server-core';

/** Faults injected on every whole frame, in both directions. */
export interface PipeFaults {
  /** PRNG seed (runs are reproducible). */
  readonly seed: number;
  /** Probability of dropping a frame (default 0). */
  readonly dropRate?: number;
  /** Minimum and maximum one-way delay in virtual ms; different delays reorder frames (default 0–0). */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
}

/** A frame the client sent, as observed by the pipe. */
export interface SentFrame {
  readonly at: number;
  readonly docId?: string;
  readonly text?: string;
  readonly dropped: boolean;
}

/** Small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/**
 * Connects a {@link SyncSession} to a {@link TestSyncServerCore} through an in-memory pipe with
 * delays, drops and reordering of whole frames, on a virtual clock (pass `pipe.clock` as the
 * session's clock). Ticks are delivered every `tickMs` virtual ms.
 */
export class SessionPipe {
  /** Virtual time in ms. */
  now = 0;
  /** Everything the session emitted. */
  readonly events: SyncEvent[] = [];
  /** Frames the client sent. */
  readonly sent: SentFrame[] = [];
  /** Called synchronously for every emitted event (assert invariants at the moment of emission). */
  readonly listeners: ((event: SyncEvent) => void)[] = [];
  private readonly queue: Scheduled[] = [];
  private seq = 0;
  private readonly random: () => number;
  private connection: TestConnection | undefined;
  private generation = 0;
  private faults: PipeFaults;
  private nextTick = 0;

  constructor(
    private readonly session: SyncSession,
    private readonly server: TestSyncServerCore,
    faults: PipeFaults,
    private readonly tickMs = 100,
  ) {
    this.faults = faults;
    this.random = seededRandom(faults.seed);
  }

  /** The virtual clock, for `SyncSessionOptions.clock`. */
  readonly clock = (): number => this.now;

  /** Changes the faults from now on (the PRNG sequence continues). */
  setFaults(faults: Omit<PipeFaults, 'seed'>): void {
    this.faults = { ...faults, seed: this.faults.seed };
  }

  /** Opens a (new) connection. */
  connect(role: Role = 'editor'): void {
    const generation = ++this.generation;
    this.connection = this.server.connect(
      {
        send: (data) =>
          this.schedule(() => {
            if (generation === this.generation)
              this.feed(
                typeof data === 'string'
                  ? { type: 'TextMessage', text: data }
                  : { type: 'BinaryMessage', data: data.slice() },
              );
          }, true),
        close: () =>
          this.schedule(() => {
            if (generation === this.generation) this.disconnect();
          }, false),
      },
      role,
    );
    this.nextTick = this.now + this.tickMs;
    this.feed({ type: 'Connected' });
  }

  /** Drops the connection (both sides notice at once). */
  disconnect(): void {
    this.generation++;
    this.connection?.disconnect();
    this.connection = undefined;
    this.feed({ type: 'Disconnected' });
  }

  /** Feeds an event to the session and executes its actions. */
  feed(event: SessionEvent): void {
    this.execute(this.session.handle(event));
  }

  /** Runs the virtual clock until `until()` holds or `maxMs` virtual ms passed; returns whether it held. */
  run(until: () => boolean, maxMs = 60000): boolean {
    const end = this.now + maxMs;
    while (!until()) {
      const next = this.queue.length > 0 ? this.queue[0] : undefined;
      const tickDue = this.connection !== undefined ? this.nextTick : Number.POSITIVE_INFINITY;
      const at = Math.min(next?.at ?? Number.POSITIVE_INFINITY, tickDue);
      if (at > end || at === Number.POSITIVE_INFINITY) {
        this.now = end;
        return until();
      }
      this.now = at;
      if (next !== undefined && next.at <= tickDue) {
        this.queue.shift();
        next.run();
      } else {
        this.nextTick = this.now + this.tickMs;
        this.feed({ type: 'Tick' });
      }
    }
    return true;
  }

  /** Runs until no frame is in flight (ticks continue while waiting). */
  drain(maxMs = 60000): boolean {
    return this.run(() => this.queue.length === 0, maxMs);
  }

  private execute(actions: readonly SessionAction[]): void {
    for (const a of actions) {
      if (a.type === 'Emit') {
        this.events.push(a.event);
        for (const l of this.listeners) l(a.event);
      } else if (a.type === 'DownloadSnapshot')
        this.schedule(() => this.feed({ type: 'SnapshotImported' }), false);
      else {
        const data = a.type === 'SendBinary' ? a.data.slice() : a.text;
        const conn = this.connection;
        const generation = this.generation;
        const dropped = this.schedule(() => {
          if (generation === this.generation) conn?.receive(data);
        }, true);
        this.sent.push({
          at: this.now,
          docId: typeof data === 'string' ? undefined : decodeFrame(data)?.docId,
          text: typeof data === 'string' ? data : undefined,
          dropped,
        });
      }
    }
  }

  /** Schedules a delivery; returns true when it was dropped. */
  private schedule(run: () => void, faulty: boolean): boolean {
    const { dropRate = 0, minDelayMs = 0, maxDelayMs = 0 } = this.faults;
    if (faulty && dropRate > 0 && this.random() < dropRate) return true;
    const delay = faulty ? minDelayMs + Math.floor(this.random() * (maxDelayMs - minDelayMs + 1)) : 0;
    const item: Scheduled = { at: this.now + delay, seq: this.seq++, run };
    let i = this.queue.length;
    while (
      i > 0 &&
      (this.queue[i - 1].at > item.at ||
        (this.queue[i - 1].at === item.at && this.queue[i - 1].seq > item.seq))
    )
      i--;
    this.queue.splice(i, 0, item);
    return false;
  }
}
