/**
 * `joinstorm`: J clients join one doc of S MB at once: time from each client's connect to its
 * full content (the doc's last edit present), p50/p99/max.
 */
import { splitEvenly, WorkerPool } from '../load/worker-pool';
import type { JoinResult } from '../load/worker-protocol';
import { Recorder } from '../recorder';
import type { RunResult } from '../result';
import { percentile, sortedSamples } from '../stats/percentiles';
import { markerText } from '../load/markers';
import type { ScenarioContext } from './context';
import { writeDoc } from './write-doc';

export interface JoinstormOptions {
  clients: number;
  sizeMegabytes: number;
  timeoutSeconds: number;
}

export const JOINSTORM_DEFAULTS: JoinstormOptions = { clients: 150, sizeMegabytes: 4, timeoutSeconds: 180 };

/** Text of one chunk update: its marker, then filler up to the chunk size. */
const CHUNK_BYTES = 64 * 1024;

export async function runJoinstorm(ctx: ScenarioContext, o: JoinstormOptions): Promise<RunResult> {
  const { target } = ctx;
  const workers = Math.max(1, Math.min(ctx.workers, o.clients));
  const recorder = new Recorder(
    'joinstorm',
    target,
    { clients: o.clients, size_mb: o.sizeMegabytes },
    { workers, progress: ctx.progress },
  );
  const pool = new WorkerPool(workers, {
    onEventLoopDelay: (_w, p99, max) => recorder.eventLoopDelay(p99, max),
  });
  try {
    const docId = target.docId('joinstorm');
    const chunks = Math.max(1, Math.round((o.sizeMegabytes * 1024 * 1024) / CHUNK_BYTES));
    ctx.log(`writing a ${o.sizeMegabytes} MB doc (${chunks} updates of ${CHUNK_BYTES / 1024} KB) ...`);
    const filler = 'x'.repeat(CHUNK_BYTES);
    const chunkText = (i: number) => markerText(i) + filler.slice(markerText(i).length);
    const endpoint = target.endpoints[0];
    const w = await writeDoc(endpoint, endpoint, docId, chunks, chunkText, o.timeoutSeconds * 1000);
    const failures: string[] = [];
    if (w.seen < chunks)
      failures.push(`the doc was not fully written (${w.seen}/${chunks} chunks confirmed)`);
    if (w.errors.length)
      failures.push(`errors while writing: ${[...new Set(w.errors)].slice(0, 3).join('; ')}`);
    await recorder.begin();
    recorder.measureFromNow();
    ctx.log(`${o.clients} clients join at once ...`);
    const counts = splitEvenly(
      Array.from({ length: o.clients }, (_, i) => i),
      workers,
    ).map((g) => g.length);
    const results = await pool.all<JoinResult>((i) =>
      counts[i] === 0
        ? null
        : {
            cmd: 'join',
            endpoint: target.endpoints[i % target.endpoints.length],
            docId,
            count: counts[i],
            lastMarker: chunks,
            timeoutMs: o.timeoutSeconds * 1000,
          },
    );
    const times = results.flatMap((r) => r.fullContentMs);
    const ok = times.filter(Number.isFinite);
    recorder.addLatencies(ok);
    if (ok.length < o.clients) failures.push(`${o.clients - ok.length} clients never had the full content`);
    const sorted = sortedSamples(ok);
    const messages = results.flatMap((r) => r.messages).slice(0, 5);
    return await recorder.finish({
      figures: [
        { key: 'doc_bytes', label: 'doc size', value: chunks * CHUNK_BYTES, unit: 'B' },
        {
          key: 'join_p50_ms',
          label: 'connect → full content, p50',
          value: percentile(sorted, 50),
          unit: 'ms',
        },
        {
          key: 'join_p99_ms',
          label: 'connect → full content, p99',
          value: percentile(sorted, 99),
          unit: 'ms',
        },
        {
          key: 'join_max_ms',
          label: 'connect → full content, max',
          value: percentile(sorted, 100),
          unit: 'ms',
        },
      ],
      latencyMeaning: 'connect → full content of the big doc, per joining client (ms)',
      failures,
      notes: messages.length ? [`first errors: ${messages.join('; ')}`] : [],
    });
  } finally {
    await pool.close();
  }
}
