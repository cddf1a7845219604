/** A server under test: where clients connect and what the tool can observe or do to it. */
import type { WatchedProcess } from '../sampling/sampler';
import type { WireEndpoint } from '../wire/wire';

export interface Target {
  /** Human label, e.g. `diaryx-sync /sync2 (local)`, `y-websocket`. */
  label: string;
  /** Client k connects to `endpoints[k % length]`. */
  endpoints: WireEndpoint[];
  /** A doc id for a short name (`body:<workspace>/<name>.md` on this cluster). */
  docId(name: string): string;
  /** Local server processes (CPU/RSS sampled from /proc); empty for a remote server. */
  processes: WatchedProcess[];
  /** Remote: the services' `/metrics` URLs (read before and after); empty when local. */
  metricsUrls: string[];
  /** True for a stack this tool started (restarts and kills are allowed). */
  local: boolean;
  /** Makes the server drop every loaded doc from memory; returns how it did it. */
  unloadDocs(): Promise<string>;
  /** SIGKILLs one storage/shard process and restarts it after `downMs`; local cluster only. */
  failover?(downMs: number, onKilled: (at: number, name: string) => void): Promise<void>;
  close(): Promise<void>;
}
