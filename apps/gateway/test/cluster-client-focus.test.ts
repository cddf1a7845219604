/**
 * `SyncClient.focus/unfocus` against the real stack (docs/protocol.md, focus): the focus set
 * reaches the workspace's peers as `focus_list_changed`, the client surfaces it as
 * `FocusListChanged`, and the set is sent again after a reconnect (gateway restart).
 */
import { SyncClient, createYDocSessionDocuments, type SyncEvent } from '@diaryx-sync/protocol/node';
import { startCluster, Sync2TestClient, waitUntil, type TestCluster } from './helpers/cluster';

jest.setTimeout(120_000);

const WS = 'focused';
let cluster: TestCluster;
let token: string;
const stops: (() => void)[] = [];

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, docServices: 1 });
  const tenant = await cluster.createTenant('focus');
  await cluster.createWorkspace(tenant, WS);
  token = await cluster.token({ tid: tenant.id, ws: [WS], role: 'editor' });
}, 120_000);

afterAll(async () => {
  for (const s of stops) s();
  await cluster?.stop();
});

function lastFocusList(observer: Sync2TestClient): unknown {
  return observer.textsOfType('focus_list_changed').at(-1)?.files;
}

test('focus/unfocus reach peers, FocusListChanged is an event, the set is re-sent after a reconnect', async () => {
  const observer = await Sync2TestClient.connect(cluster.ws(1), token);
  stops.push(() => observer.close());
  await observer.openSynced(`workspace:${WS}`);

  const events: SyncEvent[] = [];
  const client = new SyncClient({
    serverUrl: cluster.ws(0),
    workspaceId: WS,
    token,
    documents: createYDocSessionDocuments(),
    handler: { onEvent: (e) => events.push(e) },
    reconnect: { baseDelayMs: 100, maxDelayMs: 500, jitter: 0 },
  });
  void client.runPersistent().catch(() => undefined);
  stops.push(() => client.stop());
  await waitUntil(() => client.session.isSynced, 15_000, 'client synced');

  client.focus(['a.md', 'b.md']);
  await observer.waitFor(
    () => JSON.stringify(lastFocusList(observer)) === JSON.stringify(['a.md', 'b.md']),
    10_000,
    'focus list a.md, b.md',
  );
  client.unfocus(['b.md']);
  await observer.waitFor(
    () => JSON.stringify(lastFocusList(observer)) === JSON.stringify(['a.md']),
    10_000,
    'focus list a.md',
  );
  expect(client.focusedPaths).toEqual(['a.md']);
  await waitUntil(
    () => events.some((e) => e.type === 'FocusListChanged' && e.files.includes('a.md')),
    10_000,
    'FocusListChanged event at the client',
  );

  // Restart the client's gateway: its focus goes away with the connection, then comes back.
  const before = observer.textsOfType('focus_list_changed').length;
  await cluster.gateways[0]!.stop();
  await observer.waitFor(
    () => JSON.stringify(lastFocusList(observer)) === JSON.stringify([]),
    15_000,
    'focus list empty after the disconnect',
  );
  await cluster.gateways[0]!.start();
  await observer.waitFor(
    () =>
      observer.textsOfType('focus_list_changed').length > before + 1 &&
      JSON.stringify(lastFocusList(observer)) === JSON.stringify(['a.md']),
    30_000,
    'focus re-sent after the reconnect',
  );
});
