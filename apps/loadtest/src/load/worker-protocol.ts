/** Messages between the main thread and the load workers (load/worker.ts). */
import type { LossTotals } from '../stats/loss';
import type { WireEndpoint } from '../wire/wire';
import type { FanoutShardConfig, ShardConvergence, ShardTick, ShardTimes } from './fanout-shard';

export type WorkerCommand =
  | { cmd: 'fanout-connect'; config: FanoutShardConfig }
  | { cmd: 'fanout-run'; times: ShardTimes; drainTimeoutMs: number }
  | { cmd: 'fanout-mark'; at: number }
  | { cmd: 'fanout-finish'; save: boolean; convergeTimeoutMs: number }
  | { cmd: 'idle-connect'; endpoints: WireEndpoint[]; docIds: string[]; concurrency: number }
  | { cmd: 'idle-status' }
  | {
      cmd: 'join';
      endpoint: WireEndpoint;
      docId: string;
      count: number;
      lastMarker: number;
      timeoutMs: number;
    }
  | { cmd: 'close' };

export interface FanoutFinish {
  totals: LossTotals;
  convergence: ShardConvergence;
  recoveredAt: number[];
  saveFailures: number;
  editsScheduled: number;
  messages: string[];
}

export interface IdleConnectResult {
  /** Connect → synced (ms) of every connection that synced. */
  connectMs: number[];
  failures: number;
  messages: string[];
}

export interface IdleStatus {
  open: number;
  dropped: number;
}

export interface JoinResult {
  /** Connect → full content (ms) per client; NaN for a client that never got it. */
  fullContentMs: number[];
  messages: string[];
}

export type WorkerEvent =
  | { type: 'reply'; id: number; result: unknown }
  | { type: 'failed'; id: number; message: string }
  | { type: 'tick'; tick: ShardTick }
  | { type: 'eld'; p99: number; max: number };

export interface WorkerRequest {
  id: number;
  command: WorkerCommand;
}
