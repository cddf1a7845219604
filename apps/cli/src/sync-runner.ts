import { SyncClient, type SyncEvent, type WebSocketFactory } from '@diaryx-sync/protocol/node';
import { reconnectFor, type ConnectionOptions } from './connection-options';
import type { LocalWorkspace } from './local-workspace';

/** Test hooks: a custom WebSocket implementation, shorter timers. */
export interface ClientTuning {
  readonly webSocketFactory?: WebSocketFactory;
  readonly pingIntervalMs?: number;
  readonly pongTimeoutMs?: number;
  readonly baseDelayMs?: number;
}

/** A {@link SyncClient} for the CLI's options and local workspace. */
export function createClient(
  opts: ConnectionOptions,
  local: LocalWorkspace,
  onEvent: (event: SyncEvent) => void,
  tuning: ClientTuning = {},
  defaultRetries = 3,
): SyncClient {
  const client = new SyncClient({
    serverUrl: opts.server,
    workspaceId: opts.workspace,
    token: opts.token,
    documents: local.documents,
    handler: { onEvent },
    reconnect: {
      ...reconnectFor(opts.retries, defaultRetries),
      ...(tuning.baseDelayMs !== undefined ? { baseDelayMs: tuning.baseDelayMs } : {}),
    },
    webSocketFactory: tuning.webSocketFactory,
    pingIntervalMs: tuning.pingIntervalMs,
    pongTimeoutMs: tuning.pongTimeoutMs,
  });
  local.forwardTo((docId, update) => client.sendLocalUpdate(docId, update));
  return client;
}
