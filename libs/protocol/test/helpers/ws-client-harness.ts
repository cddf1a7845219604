/**
 * Shared setup of the SyncClient-over-real-socket tests: a test sync server where `test-token`
 * is an editor of the test workspace, a SyncClient on it that records its events, and polling.
 */
import { SyncClient, createYDocSessionDocuments, type SyncEvent } from '../../src/client';
import { startTestSyncServer, type TestSyncServer } from '../../src/client/testing';
import { WS } from '../session-helpers';

/** Options of the SyncClient constructor. */
export type SyncClientOptions = ConstructorParameters<typeof SyncClient>[0];

/** A test sync server serving the test workspace, where `test-token` has the editor role. */
export const startEditorSyncServer = (): Promise<TestSyncServer> =>
  startTestSyncServer({ workspaces: [WS], tokens: { 'test-token': 'editor' } });

/** Client options of the one-shot tests: fast timers, a single connection attempt. */
export const ONE_ATTEMPT_CLIENT: Partial<SyncClientOptions> = {
  reconnect: { baseDelayMs: 50, maxDelayMs: 200, jitter: 0, maxAttempts: 1 },
  tickIntervalMs: 50,
  pingIntervalMs: 100,
};

/**
 * A SyncClient of the test workspace on `server` (token `test-token`, fresh Y.Doc documents)
 * that records every event it emits; `options` replace or add single options.
 */
export function testSyncClient(server: TestSyncServer, options: Partial<SyncClientOptions> = {}) {
  const docs = createYDocSessionDocuments();
  const events: SyncEvent[] = [];
  const c = new SyncClient({
    serverUrl: server.url,
    workspaceId: WS,
    token: 'test-token',
    documents: docs,
    handler: { onEvent: (e) => events.push(e) },
    ...options,
  });
  return { c, docs, events };
}

/** Polls `cond` every 20 ms until it holds, or throws after `ms`. */
export async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
