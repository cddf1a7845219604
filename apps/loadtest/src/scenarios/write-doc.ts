/**
 * Writing a doc as fast as the socket takes it (`ingest`, and the set-up of `coldload` and
 * `joinstorm`): a writer sends `count` updates, a second client counts them as they arrive.
 */
import { nowMs, sleep } from '../load/clock';
import { LoadClient } from '../load/load-client';
import { scanMarkers } from '../load/markers';
import { Wire, type WireEndpoint } from '../wire/wire';

export interface WriteOutcome {
  /** First update sent (epoch ms). */
  startedAt: number;
  /** Last update handed to the socket. */
  writtenAt: number;
  /** The reader had every update (NaN when it never had them all). */
  allSeenAt: number;
  /** Updates the reader saw. */
  seen: number;
  /** Per update: sent → seen by the reader (ms). */
  latencies: number[];
  /** Server error messages and failed saves. */
  errors: string[];
  /** Unexpected closes (the clients reconnect and resync, as real clients do). */
  drops: string[];
}

/** Keeps the socket's send buffer under this many bytes ("as fast as its socket takes them"). */
const MAX_BUFFERED = 1 << 20;

/**
 * Writes `count` updates to `docId` through `writerEndpoint`; marker ids are `1..count`, update i
 * inserts `text(i)` (which must contain the marker of i). Waits until a reader on
 * `readerEndpoint` has them all (or `timeoutMs`), then `save`s where the protocol has it.
 */
export async function writeDoc(
  writerEndpoint: WireEndpoint,
  readerEndpoint: WireEndpoint,
  docId: string,
  count: number,
  text: (i: number) => string,
  timeoutMs: number,
): Promise<WriteOutcome> {
  const errors: string[] = [];
  const drops: string[] = [];
  const handlers = {
    onDrop: (_c: LoadClient, code: number, reason: string) => drops.push(`${code} ${reason}`),
    onError: (_c: LoadClient, message: string) => errors.push(message),
  };
  const options = { reconnects: 10 };
  const sentAt = new Float64Array(count + 1);
  const seenIds = new Set<number>();
  const latencies: number[] = [];
  let allSeenAt = NaN;
  const reader = new LoadClient(
    1,
    new Wire(readerEndpoint),
    docId,
    {
      ...handlers,
      onRemote: (_c, update, now) => {
        scanMarkers(update, (id) => {
          if (id < 1 || id > count || seenIds.has(id)) return;
          seenIds.add(id);
          latencies.push(now - sentAt[id]);
          if (seenIds.size === count) allSeenAt = now;
        });
      },
    },
    options,
  );
  const writer = new LoadClient(0, new Wire(writerEndpoint), docId, handlers, options);
  try {
    await Promise.all([reader.ready(), writer.ready()]);
    // Encode every message first, so the timed loop only hands bytes to the socket.
    const messages: Uint8Array[] = [];
    for (let i = 1; i <= count; i++) messages.push(writer.wire.update(docId, writer.makeUpdate(text(i))));
    const startedAt = nowMs();
    for (let i = 1; i <= count; i++) {
      while (writer.ws.bufferedAmount > MAX_BUFFERED) await sleep(1);
      // A dropped writer stops writing: after its reconnect the resync sends what the server lacks.
      if (!writer.isOpen) break;
      sentAt[i] = nowMs();
      writer.send(messages[i - 1]);
      // Yield now and then so the reader's socket is served while writing.
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    const writtenAt = nowMs();
    const deadline = Date.now() + timeoutMs;
    while (seenIds.size < count && Date.now() < deadline) await sleep(5);
    // Durability barrier (/sync2); a save cut by a close is retried on the next connection.
    for (let attempt = 1; ; attempt++) {
      while (!writer.isOpen && Date.now() < deadline) await sleep(20);
      try {
        await writer.save(Math.max(1000, deadline - Date.now()));
        break;
      } catch (err) {
        if (attempt >= 5 || Date.now() >= deadline) {
          errors.push((err as Error).message);
          break;
        }
      }
    }
    return { startedAt, writtenAt, allSeenAt, seen: seenIds.size, latencies, errors, drops };
  } finally {
    writer.close();
    reader.close();
  }
}

/** Loads `docId` with a fresh client; resolves the time to the initial state and its marker ids. */
export async function freshLoad(
  endpoint: WireEndpoint,
  docId: string,
  timeoutMs: number,
): Promise<{ ms: number; markers: Set<number>; bytes: number }> {
  const client = new LoadClient(2, new Wire(endpoint), docId, {}, { keepInitialState: true });
  try {
    await Promise.race([
      client.ready(),
      sleep(timeoutMs).then(() =>
        Promise.reject(new Error(`fresh load of ${docId} took over ${timeoutMs} ms`)),
      ),
    ]);
    const markers = new Set<number>();
    const state = client.initialState ?? new Uint8Array(0);
    scanMarkers(state, (id) => markers.add(id));
    return { ms: client.timings.syncedAt - client.timings.startedAt, markers, bytes: state.byteLength };
  } finally {
    client.close();
  }
}
