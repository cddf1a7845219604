/**
 * Workspace presence through the doc service: peer_joined/peer_left with cluster-wide counts,
 * focus_list_changed with the union of paths, and cleanup of a crashed gateway's entries.
 */
import { startHeartbeat, workspaceEventJson, workspacePeersKey, type WorkspaceEvent } from '@diaryx-sync/bus';
import { DocService } from '@diaryx-sync/doc-service';
import { createTestEnv, FakeGateway, sleep, step1Msg, waitFor, type TestEnv } from './helpers';
import { docServiceOptions, startFakeGateway } from './helpers/harness';

// integration test against real services: the default 5 s per test is too tight on a busy machine
jest.setTimeout(30000);

const SHARDS = 4;
const T = 'tenant-p';
const WS = 'team';
const WDOC = `workspace:${WS}`;

describe('workspace presence', () => {
  let env: TestEnv;
  let svc: DocService;
  let g1: FakeGateway;
  let g2: FakeGateway;
  const beats: { stop(): Promise<void> }[] = [];

  const events = (gw: FakeGateway) =>
    gw.of('workspace_event', (e) => e.tenant === T && e.event.workspace === WS).map((e) => e.event);
  const last = (gw: FakeGateway, type: WorkspaceEvent['type']) =>
    events(gw)
      .filter((e) => e.type === type)
      .at(-1);

  beforeAll(async () => {
    env = await createTestEnv();
    svc = new DocService(
      docServiceOptions(env, SHARDS, {
        presenceGraceMs: 200,
        sweepIntervalMs: 60000, // sweeps are triggered by the test
      }),
    );
    await svc.start();
    g1 = await startFakeGateway(env, SHARDS, 'gw1');
    g2 = await startFakeGateway(env, SHARDS, 'gw2');
    for (const g of [g1, g2]) {
      await g.watchWorkspace(T, WS);
      beats.push(
        startHeartbeat({
          redis: env.redis,
          prefix: env.prefix,
          kind: 'gateway',
          id: g.id,
          intervalMs: 200,
          ttlMs: 600,
        }),
      );
    }
  });
  afterAll(async () => {
    for (const b of beats) await b.stop();
    g1.close();
    g2.close();
    await svc.stop();
    await env.close();
  });

  it('counts connections of the workspace doc across gateways', async () => {
    await g1.frame(T, WDOC, 'a', step1Msg());
    await waitFor(() => last(g1, 'peer_joined'), 3000, 'first join');
    expect(last(g1, 'peer_joined')).toEqual({ type: 'peer_joined', workspace: WS, peer_count: 1 });
    await g2.frame(T, WDOC, 'b', step1Msg());
    await waitFor(() => events(g1).filter((e) => e.type === 'peer_joined').length === 2, 3000, 'second join');
    expect(last(g1, 'peer_joined')!).toMatchObject({ peer_count: 2 });
    expect(last(g2, 'peer_joined')!).toMatchObject({ peer_count: 2 }); // every gateway hears it
    // more frames from a known connection do not re-announce it
    await g1.frame(T, WDOC, 'a', step1Msg());
    await g1.frame(T, 'body:team/x.md', 'a', step1Msg()); // body docs do not count
    await sleep(150);
    expect(events(g1).filter((e) => e.type === 'peer_joined')).toHaveLength(2);
    expect(workspaceEventJson(last(g1, 'peer_joined')!)).toBe(
      '{"type":"peer_joined","workspace":"team","peer_count":2}',
    );
  });

  it('publishes the union of focused paths, only when it changes', async () => {
    await g1.send({
      type: 'focus',
      gatewayId: g1.id,
      connId: 'a',
      tenant: T,
      docId: WDOC,
      files: ['b.md', 'a.md'],
    });
    await waitFor(() => last(g1, 'focus_list_changed'), 3000, 'focus');
    expect(last(g1, 'focus_list_changed')).toEqual({
      type: 'focus_list_changed',
      workspace: WS,
      files: ['a.md', 'b.md'],
    });
    await g2.send({
      type: 'focus',
      gatewayId: g2.id,
      connId: 'b',
      tenant: T,
      docId: WDOC,
      files: ['c.md', 'a.md'],
    });
    await waitFor(
      () => (last(g2, 'focus_list_changed') as { files: string[] } | undefined)?.files.length === 3,
      3000,
      'union',
    );
    const n = events(g1).filter((e) => e.type === 'focus_list_changed').length;
    // idempotent re-send: no event
    await g2.send({
      type: 'focus',
      gatewayId: g2.id,
      connId: 'b',
      tenant: T,
      docId: WDOC,
      files: ['a.md', 'c.md'],
    });
    await sleep(150);
    expect(events(g1).filter((e) => e.type === 'focus_list_changed')).toHaveLength(n);
  });

  it('a leaving connection leaves the count and the focus set', async () => {
    await g1.send({ type: 'leave', gatewayId: g1.id, connId: 'a', tenant: T, docId: WDOC });
    await waitFor(() => last(g2, 'peer_left'), 3000, 'peer_left');
    expect(last(g2, 'peer_left')).toEqual({ type: 'peer_left', workspace: WS, peer_count: 1 });
    await waitFor(
      () =>
        JSON.stringify((last(g2, 'focus_list_changed') as { files: string[] }).files) === '["a.md","c.md"]',
      3000,
      'focus after leave',
    );
  });

  it('removes the entries of a crashed gateway (no heartbeat) on the next sweep', async () => {
    await g1.frame(T, WDOC, 'a2', step1Msg());
    await waitFor(
      () =>
        last(g2, 'peer_joined')?.type === 'peer_joined' &&
        (last(g2, 'peer_joined') as { peer_count: number }).peer_count === 2,
      3000,
      'rejoin',
    );
    await beats[0]!.stop(); // gw1 "crashes": its heartbeat key disappears
    await sleep(300);
    await svc.sweep();
    await waitFor(
      () =>
        (last(g2, 'peer_left') as { peer_count: number } | undefined)?.peer_count === 1 &&
        events(g2).at(-1)?.type !== 'peer_joined',
      3000,
      'swept',
    );
    const peers = await env.redis.hkeys(workspacePeersKey(env.prefix, T, WS));
    expect(peers).toEqual(['gw2|b']);
    // the live gateway's entries survive sweeps
    await svc.sweep();
    expect(await env.redis.hkeys(workspacePeersKey(env.prefix, T, WS))).toEqual(['gw2|b']);
  });

  it('a leave that arrives while the doc is still loading is applied after the frames before it', async () => {
    const ws = 'race';
    await g1.watchWorkspace(T, ws);
    await svc.stop(); // unload everything: the next frame must load the doc
    svc = new DocService(docServiceOptions(env, SHARDS, { sweepIntervalMs: 60000 }));
    await svc.start();
    const docId = `workspace:${ws}`;
    await g1.send({
      type: 'frame',
      msgId: 'r1',
      gatewayId: g1.id,
      connId: 'z',
      tenant: T,
      role: 'editor',
      docId,
      payload: step1Msg(),
    });
    await g1.send({ type: 'leave', gatewayId: g1.id, connId: 'z', tenant: T, docId });
    const wsEvents = () => g1.of('workspace_event', (e) => e.event.workspace === ws).map((e) => e.event.type);
    await waitFor(() => wsEvents().includes('peer_left'), 3000, 'peer_left after join');
    expect(wsEvents()).toEqual(['peer_joined', 'peer_left']);
    expect(await env.redis.hlen(workspacePeersKey(env.prefix, T, ws))).toBe(0);
  });
});
