/** Idle connections (the `connections` scenario) and simultaneous joins (the `joinstorm` scenario). */
import { sleep } from './clock';
import { LoadClient } from './load-client';
import { containsMarker } from './markers';
import { Wire, type WireEndpoint } from '../wire/wire';
import type { IdleConnectResult, IdleStatus, JoinResult } from './worker-protocol';

export interface IdleConnections {
  result: IdleConnectResult;
  status(): IdleStatus;
  close(): void;
}

/** Opens one synced connection per entry of `docIds` (endpoints round-robin), `concurrency` at a time. */
export async function openIdleConnections(
  endpoints: WireEndpoint[],
  docIds: string[],
  concurrency: number,
): Promise<IdleConnections> {
  const wires = endpoints.map((e) => new Wire(e));
  const clients: LoadClient[] = [];
  const result: IdleConnectResult = { connectMs: [], failures: 0, messages: [] };
  let next = 0;
  const lane = async () => {
    while (next < docIds.length) {
      const i = next++;
      const client = new LoadClient(i, wires[i % wires.length], docIds[i]);
      clients.push(client);
      try {
        await Promise.race([
          client.ready(),
          sleep(30000).then(() => Promise.reject(new Error('not synced in 30 s'))),
        ]);
        result.connectMs.push(client.timings.syncedAt - client.timings.startedAt);
      } catch (err) {
        result.failures++;
        if (result.messages.length < 10) result.messages.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, lane));
  return {
    result,
    status: () => ({
      open: clients.filter((c) => c.isOpen).length,
      dropped: clients.filter((c) => c.dropped !== null).length,
    }),
    close: () => clients.forEach((c) => c.terminate()),
  };
}

/**
 * `count` clients connect to `docId` at once; each reports the time from its connect to the
 * moment its copy holds the marker `lastMarker` (the doc's last edit: full content).
 */
export async function joinDoc(
  endpoint: WireEndpoint,
  docId: string,
  count: number,
  lastMarker: number,
  timeoutMs: number,
): Promise<JoinResult> {
  const wire = new Wire(endpoint);
  const messages: string[] = [];
  const times = new Array<number>(count).fill(NaN);
  const clients: LoadClient[] = [];
  const done = Array.from({ length: count }, (_, i) => {
    let markAt = NaN;
    let resolveFull: () => void = () => undefined;
    const full = new Promise<void>((resolve) => (resolveFull = resolve));
    const found = (bytes: Uint8Array, at: number) => {
      if (Number.isNaN(markAt) && containsMarker(bytes, lastMarker)) {
        markAt = at;
        resolveFull();
      }
    };
    // The last edit may come in the initial state or later (a server that syncs the doc from
    // another process after answering, like Hocuspocus with Redis).
    const client = new LoadClient(
      i,
      wire,
      docId,
      { onRemote: (_c, update, now) => found(update, now) },
      { keepInitialState: true },
    );
    clients.push(client);
    void client.ready().then(
      () => {
        if (client.initialState) found(client.initialState, client.timings.syncedAt);
        client.initialState = null;
      },
      () => undefined,
    );
    return Promise.race([
      full,
      sleep(timeoutMs).then(() => Promise.reject(new Error('no full content in time'))),
    ]).then(
      () => {
        times[i] = markAt - client.timings.startedAt;
      },
      (err: unknown) => {
        if (messages.length < 10) messages.push(`client ${i}: ${(err as Error).message}`);
      },
    );
  });
  await Promise.all(done);
  clients.forEach((c) => c.terminate());
  return { fullContentMs: times, messages };
}
