import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Sampling period of the delay timer (ms); Node's readings include it, so it is subtracted. */
const RESOLUTION_MS = 5;

/** Event-loop delay of this thread (how late a timer fires), read and reset once per interval (ms). */
export class EventLoopProbe {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });

  constructor() {
    this.histogram.enable();
  }

  /** p99 and max delay since the last call (ms), then resets. */
  take(): { p99: number; max: number } {
    const h = this.histogram;
    const late = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);
    const out = h.count === 0 ? { p99: 0, max: 0 } : { p99: late(h.percentile(99)), max: late(h.max) };
    h.reset();
    return out;
  }

  stop(): void {
    this.histogram.disable();
  }
}
