/**
 * `coldload`: R docs (one per repetition) are written with U updates each; then the server
 * forgets them (local stack: the doc services restart; a peer: every client leaves and the
 * server unloads; remote: wait for the idle unload) and a fresh client per doc is timed from
 * connect to full content (every update present).
 */
import { Recorder } from '../recorder';
import type { RunResult } from '../result';
import { emptyLossTotals } from '../stats/loss';
import { markerText } from '../load/markers';
import { percentile, sortedSamples } from '../stats/percentiles';
import type { ScenarioContext } from './context';
import { freshLoad, writeDoc } from './write-doc';

export interface ColdloadOptions {
  updates: number;
  repetitions: number;
  timeoutSeconds: number;
}

export const COLDLOAD_DEFAULTS: ColdloadOptions = { updates: 10000, repetitions: 5, timeoutSeconds: 120 };

export async function runColdload(ctx: ScenarioContext, o: ColdloadOptions): Promise<RunResult> {
  const { target } = ctx;
  const recorder = new Recorder(
    'coldload',
    target,
    { updates: o.updates, repetitions: o.repetitions },
    { workers: 0, progress: ctx.progress },
  );
  const docIds = Array.from({ length: o.repetitions }, (_, i) => target.docId(`coldload-${i}`));
  const endpoint = target.endpoints[0];
  await recorder.begin();
  ctx.log(`writing ${o.repetitions} doc(s) with ${o.updates} updates each ...`);
  const writes = await Promise.all(
    docIds.map((d) => writeDoc(endpoint, endpoint, d, o.updates, markerText, o.timeoutSeconds * 1000)),
  );
  const failures: string[] = [];
  const written = writes.reduce((a, w) => a + w.seen, 0);
  if (written < o.updates * o.repetitions)
    failures.push(`only ${written} of ${o.updates * o.repetitions} updates were confirmed while writing`);
  const writeErrors = [...new Set(writes.flatMap((w) => w.errors))];
  if (writeErrors.length) failures.push(`errors while writing: ${writeErrors.slice(0, 3).join('; ')}`);
  const drops = writes.reduce((a, w) => a + w.drops.length, 0);
  ctx.log('unloading ...');
  const how = await target.unloadDocs();
  recorder.measureFromNow();
  const times: number[] = [];
  let lost = 0;
  for (const docId of docIds) {
    try {
      const load = await freshLoad(endpoint, docId, o.timeoutSeconds * 1000);
      const missing = o.updates - [...load.markers].filter((id) => id >= 1 && id <= o.updates).length;
      lost += missing;
      times.push(load.ms);
      ctx.log(
        `cold load of ${docId}: ${load.ms.toFixed(1)} ms, ${load.bytes} bytes${missing ? `, MISSING ${missing}` : ''}`,
      );
    } catch (err) {
      lost += o.updates;
      failures.push((err as Error).message);
    }
  }
  recorder.addLatencies(times);
  if (lost > 0) failures.push(`${lost} updates absent from the cold loads`);
  const sorted = sortedSamples(times);
  const loss = emptyLossTotals();
  loss.editsSent = o.updates * o.repetitions;
  return recorder.finish({
    figures: [
      {
        key: 'coldload_p50_ms',
        label: 'cold load, connect → full content, median',
        value: percentile(sorted, 50),
        unit: 'ms',
      },
      {
        key: 'coldload_max_ms',
        label: 'cold load, slowest repetition',
        value: percentile(sorted, 100),
        unit: 'ms',
      },
      { key: 'coldload_first_ms', label: 'cold load, first repetition', value: times[0] ?? NaN, unit: 'ms' },
    ],
    latencyMeaning: 'fresh client connect → full content of a cold doc (ms), one sample per repetition',
    loss,
    lostEdits: lost,
    failures,
    notes: [
      `unload: ${how}`,
      ...(drops
        ? [`the writing clients were disconnected ${drops} time(s) and reconnected with a resync`]
        : []),
    ],
  });
}
