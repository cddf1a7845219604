/**
 * The "saturated" verdict: a run whose load generator could not keep its own schedule (event-loop
 * delay) or whose machine had no CPU left measured the client or the machine, not the server.
 * The report shows the verdict next to every figure so nobody reads a client bottleneck as a
 * server figure.
 */

/** What the verdict looks at, over the measured window. */
export interface SaturationInputs {
  /** Highest p99 event-loop delay (ms) of the load generator's threads (main and workers). */
  generatorEventLoopDelayP99Ms: number;
  /** Mean share (0-1) of the machine's CPU time that was busy (from /proc/stat). */
  machineCpuBusy: number;
  /** Edits the schedule asked for and edits actually sent (a generator that fell behind). */
  editsScheduled?: number;
  editsSent?: number;
}

/** Limits above which a run counts as saturated. */
export interface SaturationLimits {
  eventLoopDelayP99Ms: number;
  machineCpuBusy: number;
  /** Minimum share of the scheduled edits that must have been sent. */
  scheduleKept: number;
}

export const DEFAULT_SATURATION_LIMITS: SaturationLimits = {
  eventLoopDelayP99Ms: 10,
  machineCpuBusy: 0.9,
  scheduleKept: 0.98,
};

export interface SaturationVerdict {
  saturated: boolean;
  /** One sentence per limit that was crossed. */
  reasons: string[];
}

/** Decides whether the load generator or the machine limited the run. */
export function saturationVerdict(
  inputs: SaturationInputs,
  limits: SaturationLimits = DEFAULT_SATURATION_LIMITS,
): SaturationVerdict {
  const reasons: string[] = [];
  if (inputs.generatorEventLoopDelayP99Ms > limits.eventLoopDelayP99Ms) {
    reasons.push(
      `load generator event-loop delay p99 ${inputs.generatorEventLoopDelayP99Ms.toFixed(1)} ms > ${limits.eventLoopDelayP99Ms} ms: the client, not the server, added latency`,
    );
  }
  if (inputs.machineCpuBusy > limits.machineCpuBusy) {
    reasons.push(
      `machine CPU ${(inputs.machineCpuBusy * 100).toFixed(0)} % busy > ${(limits.machineCpuBusy * 100).toFixed(0)} %: server and load generator competed for CPU`,
    );
  }
  if (
    inputs.editsScheduled !== undefined &&
    inputs.editsSent !== undefined &&
    inputs.editsScheduled > 0 &&
    inputs.editsSent / inputs.editsScheduled < limits.scheduleKept
  ) {
    reasons.push(
      `load generator sent ${inputs.editsSent} of ${inputs.editsScheduled} scheduled edits: it could not keep the rate`,
    );
  }
  return { saturated: reasons.length > 0, reasons };
}
