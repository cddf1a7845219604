/**
 * The clients of some docs of a fan-out run, driven by one thread (a worker of the pool or, in
 * tests, the main thread). All clients of a doc live in the same shard, so an edit's send time
 * and its arrivals are read from one clock.
 */
import { nowMs, sleep, waitFor } from './clock';
import { DeliveryLedger, type LossTotals } from '../stats/loss';
import { LoadClient } from './load-client';
import { scanMarkers } from './markers';
import { Wire, type WireEndpoint } from '../wire/wire';

export interface FanoutShardConfig {
  /** Endpoints; client k of a doc connects to `endpoints[k % length]` (several server processes). */
  endpoints: WireEndpoint[];
  docIds: string[];
  clientsPerDoc: number;
  editsPerSecond: number;
  /** Marker ids of this shard start here (unique across shards). */
  firstEditId: number;
  /** Parallel connection attempts while opening clients. */
  connectConcurrency: number;
}

/** What a shard reports every second of the run. */
export interface ShardTick {
  second: number;
  sent: number;
  delivered: number;
  /** Delivery latencies (ms) of edits sent in the measured window that arrived this second. */
  latencies: Float64Array;
  /** Edit → last receiver latencies (ms) completed this second (measured window only). */
  allArrived: Float64Array;
  errors: number;
  drops: number;
}

/** Per-doc convergence figures of one shard. */
export interface ShardConvergence {
  docs: number;
  /** Docs where every client holds exactly the doc's edits. */
  convergedDocs: number;
  /** Docs where a fresh client's load holds exactly the doc's edits. */
  freshMatchingDocs: number;
  /** Edits sent but absent from the fresh load of their doc. */
  lostEdits: number;
  /** Up to 5 descriptions of mismatches. */
  examples: string[];
}

export interface ShardTimes {
  startAt: number;
  measureFrom: number;
  endAt: number;
}

export class FanoutShard {
  readonly ledger = new DeliveryLedger();
  readonly clients: LoadClient[] = [];
  private readonly editsByDoc = new Map<string, Set<number>>();
  private readonly seenByClient = new Map<number, Set<number>>();
  private nextEditId: number;
  private tick: ShardTick = FanoutShard.emptyTick(0);
  private times: ShardTimes = { startAt: 0, measureFrom: 0, endAt: 0 };
  private errorMessages: string[] = [];
  editsScheduled = 0;
  /** Per doc: first edit sent at or after `markAt` and when it reached every receiver. */
  private markAt = Infinity;
  private readonly firstAfterMark = new Map<string, number>();

  constructor(private readonly config: FanoutShardConfig) {
    this.nextEditId = config.firstEditId;
  }

  private static emptyTick(second: number): ShardTick {
    return {
      second,
      sent: 0,
      delivered: 0,
      latencies: new Float64Array(0),
      allArrived: new Float64Array(0),
      errors: 0,
      drops: 0,
    };
  }

  private pendingLatencies: number[] = [];
  private pendingAllArrived: number[] = [];

  /** Opens every client and waits for its initial sync. */
  async connect(timeoutMs = 120000): Promise<void> {
    const { endpoints, docIds, clientsPerDoc, connectConcurrency } = this.config;
    const wires = endpoints.map((e) => new Wire(e));
    const specs: Array<{ doc: string; k: number }> = [];
    for (const doc of docIds) {
      this.editsByDoc.set(doc, new Set());
      for (let k = 0; k < clientsPerDoc; k++) specs.push({ doc, k });
    }
    let next = 0;
    const deadline = Date.now() + timeoutMs;
    const lane = async () => {
      while (next < specs.length) {
        const { doc, k } = specs[next++];
        const client = new LoadClient(
          this.clients.length,
          wires[k % wires.length],
          doc,
          {
            onRemote: (c, update, now) => this.onRemote(c, update, now),
            onDrop: (_c, code, reason) => {
              this.tick.drops++;
              this.note(`client dropped: ${code} ${reason} (reconnects)`);
            },
            onError: (_c, message) => {
              this.tick.errors++;
              this.note(message);
            },
          },
          { reconnects: 5 },
        );
        this.clients.push(client);
        this.seenByClient.set(client.id, new Set());
        await Promise.race([
          client.ready(),
          sleep(Math.max(0, deadline - Date.now())).then(() => {
            throw new Error(`client of ${doc} not synced within ${timeoutMs} ms`);
          }),
        ]);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, connectConcurrency) }, lane));
  }

  private note(message: string): void {
    if (this.errorMessages.length < 20) this.errorMessages.push(message);
  }

  /** Error and drop messages (first 20). */
  messages(): string[] {
    return [...this.errorMessages];
  }

  private onRemote(client: LoadClient, update: Uint8Array, now: number): void {
    const seen = this.seenByClient.get(client.id)!;
    const docEdits = this.editsByDoc.get(client.docId)!;
    scanMarkers(update, (id) => {
      // Only this doc's edits count: anything else is a stray match or another doc's data.
      if (!docEdits.has(id)) {
        this.ledger.unknownDelivery();
        return;
      }
      seen.add(id);
      const latency = this.ledger.delivered(id, client.id, now, (all) => {
        const sentAt = now - all;
        if (sentAt >= this.times.measureFrom) this.pendingAllArrived.push(all);
        if (sentAt >= this.markAt && !this.firstAfterMark.has(client.docId))
          this.firstAfterMark.set(client.docId, now);
      });
      if (latency === null) return;
      this.tick.delivered++;
      if (now - latency >= this.times.measureFrom) this.pendingLatencies.push(latency);
    });
  }

  /** Edits sent after `at` (epoch ms) are watched: see {@link recoveredAt}. */
  markFrom(at: number): void {
    this.markAt = at;
  }

  /** Per doc, when the first edit sent after the mark reached every receiver (NaN if never). */
  recoveredAt(): number[] {
    return this.config.docIds.map((d) => this.firstAfterMark.get(d) ?? NaN);
  }

  private flushTick(second: number): ShardTick {
    const out = this.tick;
    out.latencies = Float64Array.from(this.pendingLatencies);
    out.allArrived = Float64Array.from(this.pendingAllArrived);
    this.pendingLatencies = [];
    this.pendingAllArrived = [];
    this.tick = FanoutShard.emptyTick(second + 1);
    return out;
  }

  /**
   * Every client edits at `editsPerSecond` (random phase) from `startAt` to `endAt`; `onTick` gets
   * the figures of each second (relative to `startAt`), including the drain after `endAt`.
   */
  async run(times: ShardTimes, onTick: (tick: ShardTick) => void, drainTimeoutMs: number): Promise<void> {
    this.times = times;
    const period = 1000 / this.config.editsPerSecond;
    const due = this.clients.map(() => times.startAt + Math.random() * period);
    let second = 0;
    const tickTimer = setInterval(() => {
      const s = Math.floor((nowMs() - times.startAt) / 1000);
      while (second < s) onTick(this.flushTick(second++));
    }, 50);
    await sleep(Math.max(0, times.startAt - nowMs()));
    this.tick.second = 0;
    this.editsScheduled = Math.round(
      this.clients.length * this.config.editsPerSecond * ((times.endAt - times.startAt) / 1000),
    );
    await new Promise<void>((resolve) => {
      const loop = setInterval(() => {
        const now = nowMs();
        if (now >= times.endAt) {
          clearInterval(loop);
          resolve();
          return;
        }
        for (let i = 0; i < this.clients.length; i++) {
          if (due[i] > now) continue;
          // At most one edit per client per pass: a generator that falls behind shows up as
          // fewer edits sent than scheduled (the saturation verdict checks it).
          due[i] = Math.max(due[i] + period, now - period);
          const client = this.clients[i];
          if (!client.isOpen) continue;
          const id = this.nextEditId++;
          this.editsByDoc.get(client.docId)!.add(id);
          this.seenByClient.get(client.id)!.add(id);
          this.ledger.sent(id, client.id, nowMs(), this.config.clientsPerDoc - 1);
          client.edit(id);
          this.tick.sent++;
        }
      }, 2);
    });
    await waitFor(() => this.ledger.complete(), drainTimeoutMs, 50);
    await sleep(1000); // quiet period before the saves and the convergence check
    const s = Math.floor((nowMs() - times.startAt) / 1000);
    while (second <= s) onTick(this.flushTick(second++));
    clearInterval(tickTimer);
  }

  totals(): LossTotals {
    return this.ledger.totals();
  }

  /** `save` on every client (durability barrier where the protocol has one). */
  async saveAll(timeoutMs = 30000): Promise<number> {
    const results = await Promise.allSettled(this.clients.map((c) => c.save(timeoutMs)));
    return results.filter((r) => r.status === 'rejected').length;
  }

  /**
   * Convergence: each client's edits (own + received) equal the doc's edits, and a fresh client
   * that loads the doc gets exactly them. For a CRDT the same set of updates is the same doc.
   */
  async converge(timeoutMs = 60000): Promise<ShardConvergence> {
    const out: ShardConvergence = {
      docs: 0,
      convergedDocs: 0,
      freshMatchingDocs: 0,
      lostEdits: 0,
      examples: [],
    };
    const wire = new Wire(this.config.endpoints[0]);
    for (const [docId, edits] of this.editsByDoc) {
      out.docs++;
      const clients = this.clients.filter((c) => c.docId === docId);
      const bad = clients.filter((c) => !sameSet(this.seenByClient.get(c.id)!, edits));
      if (bad.length === 0) out.convergedDocs++;
      else if (out.examples.length < 5) {
        const missing = [...edits].filter((e) => !this.seenByClient.get(bad[0].id)!.has(e)).length;
        out.examples.push(`${docId}: ${bad.length} client(s) differ (first one misses ${missing} edit(s))`);
      }
      const fresh = new LoadClient(-1, wire, docId, {}, { keepInitialState: true });
      try {
        await Promise.race([
          fresh.ready(),
          sleep(timeoutMs).then(() => Promise.reject(new Error('fresh load timed out'))),
        ]);
        const loaded = new Set<number>();
        scanMarkers(fresh.initialState ?? new Uint8Array(0), (id) => loaded.add(id));
        const lost = [...edits].filter((e) => !loaded.has(e)).length;
        out.lostEdits += lost;
        if (sameSet(loaded, edits)) out.freshMatchingDocs++;
        else if (out.examples.length < 5)
          out.examples.push(
            `${docId}: fresh load misses ${lost} edit(s), has ${loaded.size - (edits.size - lost)} unknown`,
          );
      } catch (err) {
        out.lostEdits += edits.size;
        if (out.examples.length < 5)
          out.examples.push(`${docId}: fresh load failed: ${(err as Error).message}`);
      } finally {
        fresh.close();
      }
    }
    return out;
  }

  closeAll(): void {
    for (const c of this.clients) c.close();
  }
}

function sameSet(a: Set<number>, b: Set<number>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}
