/** CPU and memory of local processes and of the machine, read from /proc (Linux). */
import fs from 'node:fs';
import os from 'node:os';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux we run on). */
const USER_HZ = 100;

export interface ProcessSample {
  /** utime + stime (seconds). */
  cpuSeconds: number;
  rssBytes: number;
}

/** CPU seconds and RSS of `pid`, or null when it is gone. */
export function readProcess(pid: number): ProcessSample | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / USER_HZ;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(status);
    return { cpuSeconds, rssBytes: rss ? Number(rss[1]) * 1024 : 0 };
  } catch {
    return null;
  }
}

/**
 * Summed CPU seconds of every process on this machine whose command name (`/proc/<pid>/comm`) is
 * `comm` (e.g. all `postgres` backends); 0 when there is none.
 */
export function cpuSecondsOfCommand(comm: string): number {
  let sum = 0;
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== comm) continue;
    } catch {
      continue;
    }
    sum += readProcess(Number(pid))?.cpuSeconds ?? 0;
  }
  return sum;
}

export interface CpuTimes {
  busy: number;
  total: number;
}

/** Machine-wide CPU jiffies from /proc/stat (null off Linux). */
export function readMachineCpu(): CpuTimes | null {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = v[3] + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Busy share (0-1) between two readings. */
export function busyShare(a: CpuTimes | null, b: CpuTimes | null): number {
  if (!a || !b || b.total <= a.total) return NaN;
  return (b.busy - a.busy) / (b.total - a.total);
}

/** Static description of the machine for the report. */
export function describeMachine(): {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  platform: string;
} {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryBytes: os.totalmem(),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
  };
}
