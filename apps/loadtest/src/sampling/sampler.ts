/**
 * Per-second sampling during a run: the machine's CPU and load average, and each local server
 * process's CPU and RSS (from /proc). Remote servers are read from their /metrics instead
 * (sampling/metrics.ts), once before and once after.
 */
import os from 'node:os';
import {
  busyShare,
  cpuSecondsOfCommand,
  readMachineCpu,
  readProcess,
  type CpuTimes,
  type ProcessSample,
} from './proc';

/** A server process to watch; `pid()` is read at every sample (a restarted service changes pid). */
export interface WatchedProcess {
  name: string;
  pid(): number | undefined;
}

export interface MachinePoint {
  /** Seconds since the sampler started. */
  t: number;
  cpuBusy: number;
  load1: number;
}

export interface ServicePoint {
  t: number;
  /** Share of one core used during the last second. */
  cpu: number;
  rssBytes: number;
}

/**
 * The backing services on this machine, reported apart from the server's own processes: their
 * CPU over the window, summed over every process of that name (all PostgreSQL backends), so it
 * includes other users of the same Redis or PostgreSQL on the machine.
 */
export const BACKING_SERVICES = [
  { name: 'Redis', comm: 'redis-server' },
  { name: 'PostgreSQL', comm: 'postgres' },
] as const;

/** CPU of one backing service over the sampled window. */
export interface BackingUsage {
  name: string;
  /** CPU seconds / window seconds: 1.0 = one full core. */
  cpuCores: number;
}

/** Totals of one server process over the sampled window. */
export interface ServiceUsage {
  name: string;
  cpuSeconds: number;
  /** cpuSeconds / window seconds: 1.0 = one full core. */
  cpuCores: number;
  rssStartBytes: number;
  rssEndBytes: number;
  rssMaxBytes: number;
  timeline: ServicePoint[];
}

export class Sampler {
  private timer: NodeJS.Timeout | null = null;
  private started = Date.now();
  readonly machine: MachinePoint[] = [];
  private lastCpu: CpuTimes | null = readMachineCpu();
  private readonly usage = new Map<
    string,
    {
      last: ProcessSample | null;
      lastPid?: number;
      cpu: number;
      first?: ProcessSample;
      end?: ProcessSample;
      max: number;
      timeline: ServicePoint[];
    }
  >();
  private generator = { first: readProcess(process.pid), end: null as ProcessSample | null };
  private readonly backingFirst = BACKING_SERVICES.map((b) => cpuSecondsOfCommand(b.comm));

  constructor(private readonly processes: WatchedProcess[]) {
    for (const p of processes) {
      const pid = p.pid();
      const s = pid ? readProcess(pid) : null;
      this.usage.set(p.name, {
        last: s,
        lastPid: pid,
        cpu: 0,
        first: s ?? undefined,
        max: s?.rssBytes ?? 0,
        timeline: [],
      });
    }
  }

  /** Starts sampling; timeline times are seconds since `origin` (epoch ms, default now). */
  start(origin = Date.now()): this {
    this.started = origin;
    this.timer = setInterval(() => this.sample(), 1000).unref();
    return this;
  }

  private sample(): void {
    const t = (Date.now() - this.started) / 1000;
    const cpu = readMachineCpu();
    this.machine.push({ t, cpuBusy: busyShare(this.lastCpu, cpu), load1: os.loadavg()[0] });
    this.lastCpu = cpu;
    for (const p of this.processes) {
      const u = this.usage.get(p.name)!;
      const pid = p.pid();
      const s = pid ? readProcess(pid) : null;
      if (s) {
        // A new pid (restart) starts a new counter: count only its own CPU time.
        const prev = u.last && u.lastPid === pid ? u.last.cpuSeconds : 0;
        const delta = Math.max(0, s.cpuSeconds - prev);
        u.cpu += delta;
        u.max = Math.max(u.max, s.rssBytes);
        u.first ??= s;
        u.end = s;
        u.timeline.push({ t, cpu: delta, rssBytes: s.rssBytes });
      }
      u.last = s;
      u.lastPid = pid;
    }
  }

  /** Current total RSS of every watched process (bytes). */
  currentRss(): number {
    let sum = 0;
    for (const p of this.processes) {
      const pid = p.pid();
      sum += (pid ? readProcess(pid)?.rssBytes : 0) ?? 0;
    }
    return sum;
  }

  stop(): {
    services: ServiceUsage[];
    backing: BackingUsage[];
    machine: MachinePoint[];
    generatorCpuSeconds: number;
  } {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const window = Math.max(0.001, (Date.now() - this.started) / 1000);
    this.generator.end = readProcess(process.pid);
    const services = this.processes.map((p) => {
      const u = this.usage.get(p.name)!;
      return {
        name: p.name,
        cpuSeconds: u.cpu,
        cpuCores: u.cpu / window,
        rssStartBytes: u.first?.rssBytes ?? 0,
        rssEndBytes: u.end?.rssBytes ?? 0,
        rssMaxBytes: u.max,
        timeline: u.timeline,
      };
    });
    const generatorCpuSeconds =
      (this.generator.end?.cpuSeconds ?? 0) - (this.generator.first?.cpuSeconds ?? 0);
    const backing = BACKING_SERVICES.map((b, i) => ({
      name: b.name,
      cpuCores: Math.max(0, cpuSecondsOfCommand(b.comm) - this.backingFirst[i]!) / window,
    }));
    return { services, backing, machine: this.machine, generatorCpuSeconds };
  }
}
