/**
 * `ingest`: one client writes U small updates to one doc as fast as its socket takes them; a
 * second client, fresh before the writes, counts them. Time until it has all of them, updates
 * per second; then a fresh load must hold every update.
 */
import { Recorder } from '../recorder';
import type { RunResult } from '../result';
import { emptyLossTotals } from '../stats/loss';
import { markerText } from '../load/markers';
import type { ScenarioContext } from './context';
import { freshLoad, writeDoc } from './write-doc';

export interface IngestOptions {
  updates: number;
  timeoutSeconds: number;
}

export const INGEST_DEFAULTS: IngestOptions = { updates: 10000, timeoutSeconds: 120 };

export async function runIngest(ctx: ScenarioContext, o: IngestOptions): Promise<RunResult> {
  const { target } = ctx;
  const recorder = new Recorder(
    'ingest',
    target,
    { updates: o.updates },
    { workers: 0, progress: ctx.progress },
  );
  const docId = target.docId('ingest');
  const reader = target.endpoints[1 % target.endpoints.length];
  await recorder.begin();
  recorder.measureFromNow();
  ctx.log(`writing ${o.updates} updates to one doc ...`);
  const w = await writeDoc(
    target.endpoints[0],
    reader,
    docId,
    o.updates,
    markerText,
    o.timeoutSeconds * 1000,
  );
  recorder.addLatencies(w.latencies);
  const allSeenMs = w.allSeenAt - w.startedAt;
  const fresh = await freshLoad(target.endpoints[0], docId, 60000).catch(() => null);
  const lost = fresh
    ? o.updates - [...fresh.markers].filter((id) => id >= 1 && id <= o.updates).length
    : o.updates;
  const failures: string[] = [];
  if (w.seen < o.updates) failures.push(`the second client saw ${w.seen} of ${o.updates} updates`);
  if (lost > 0) failures.push(`${lost} updates absent from a fresh load`);
  if (w.errors.length) failures.push(`errors: ${[...new Set(w.errors)].slice(0, 3).join('; ')}`);
  const notes = w.drops.length
    ? [
        `the clients were disconnected ${w.drops.length} time(s) (${[...new Set(w.drops)].slice(0, 3).join('; ')}) and reconnected with a resync`,
      ]
    : [];
  const loss = emptyLossTotals();
  loss.editsSent = o.updates;
  loss.deliveriesExpected = o.updates;
  loss.deliveriesReceived = w.seen;
  loss.missingDeliveries = o.updates - w.seen;
  loss.incompleteEdits = o.updates - w.seen;
  return recorder.finish({
    figures: [
      {
        key: 'write_ms',
        label: 'writer: all updates handed to the socket',
        value: w.writtenAt - w.startedAt,
        unit: 'ms',
      },
      {
        key: 'all_seen_ms',
        label: 'first update sent → second client has all',
        value: allSeenMs,
        unit: 'ms',
      },
      {
        key: 'updates_per_second',
        label: 'updates per second (end to end)',
        value: o.updates / (allSeenMs / 1000),
        unit: '/s',
      },
      {
        key: 'fresh_load_ms',
        label: 'fresh client load of the written doc',
        value: fresh?.ms ?? NaN,
        unit: 'ms',
      },
      {
        key: 'reconnections',
        label: 'disconnects the clients recovered from',
        value: w.drops.length,
        unit: '',
      },
    ],
    latencyMeaning: 'update sent → seen by the second client (ms; includes queueing behind earlier updates)',
    loss,
    lostEdits: lost,
    failures,
    notes,
  });
}
