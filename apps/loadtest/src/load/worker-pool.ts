/** Main-thread side of the load workers: starts them, sends commands, collects ticks and delays. */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ShardTick } from './fanout-shard';
import type { WorkerCommand, WorkerEvent, WorkerRequest } from './worker-protocol';

/** The compiled worker entry (next to this file in dist; from src, the built copy). */
function workerEntry(): string {
  const here = path.join(__dirname, 'worker.js');
  if (fs.existsSync(here)) return here;
  const built = path.resolve(__dirname, '../../dist/load/worker.js');
  if (fs.existsSync(built)) return built;
  throw new Error('load worker not built: run npm run build');
}

export interface PoolListeners {
  onTick?(worker: number, tick: ShardTick): void;
  onEventLoopDelay?(worker: number, p99: number, max: number): void;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  constructor(
    readonly size: number,
    private readonly listeners: PoolListeners = {},
  ) {
    const entry = workerEntry();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(entry);
      worker.on('message', (event: WorkerEvent) => this.onEvent(i, event));
      worker.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      this.workers.push(worker);
    }
  }

  private onEvent(worker: number, event: WorkerEvent): void {
    switch (event.type) {
      case 'tick':
        this.listeners.onTick?.(worker, event.tick);
        break;
      case 'eld':
        this.listeners.onEventLoopDelay?.(worker, event.p99, event.max);
        break;
      case 'reply':
      case 'failed': {
        const p = this.pending.get(event.id);
        this.pending.delete(event.id);
        if (event.type === 'reply') p?.resolve(event.result);
        else p?.reject(new Error(`worker ${worker}: ${event.message}`));
        break;
      }
    }
  }

  /** Sends `command` to worker `i`; resolves with its result. */
  call<T>(i: number, command: WorkerCommand): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      const request: WorkerRequest = { id, command };
      this.workers[i].postMessage(request);
    });
  }

  /** Sends a command to every worker (built per worker index); resolves with all results. */
  all<T>(command: (i: number) => WorkerCommand | null): Promise<T[]> {
    const calls: Promise<T>[] = [];
    for (let i = 0; i < this.size; i++) {
      const c = command(i);
      if (c) calls.push(this.call<T>(i, c));
    }
    return Promise.all(calls);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((_, i) => this.call(i, { cmd: 'close' })));
    await Promise.allSettled(this.workers.map((w) => w.terminate()));
  }
}

/** Deals `items` round-robin into `parts` groups (sizes differ by at most one). */
export function splitEvenly<T>(items: readonly T[], parts: number): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  items.forEach((item, i) => out[i % parts].push(item));
  return out;
}
