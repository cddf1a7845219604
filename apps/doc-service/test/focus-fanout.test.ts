/**
 * Focus fan-out bounds (docs/limits.md): a burst of focus changes in one workspace is coalesced
 * into one `focus_list_changed` per debounce window, and the published list is cut to the byte
 * bound (first sorted paths), whatever the connections focus.
 */
import { decodeEnvelope, workspaceChannel, workspaceEventJson, type WorkspaceEvent } from '@diaryx-sync/bus';
import { PresenceTracker } from '../src/presence/presence-tracker';
import { createTestEnv, sleep, waitFor, type TestEnv } from './helpers';

jest.setTimeout(30000);

let env: TestEnv;
const T = 'tenant-f';
const WS = 'busy';

beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env.close();
});

test('a burst of focus changes is coalesced and the list cut to maxFocusListBytes', async () => {
  let truncated = 0;
  const tracker = new PresenceTracker({
    redis: env.redis,
    prefix: env.prefix,
    logger: env.logger,
    focusDebounceMs: 300,
    maxFocusListBytes: 8 * 1024,
    onFocusListTruncated: () => truncated++,
  });
  const sub = env.redis.duplicate();
  const received: WorkspaceEvent[] = [];
  sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => {
    const env2 = decodeEnvelope(message);
    if (env2.type === 'workspace_event') received.push(env2.event);
  });
  await sub.subscribe(workspaceChannel(env.prefix, T, WS));
  try {
    // 20 connections x 100 paths of ~110 bytes, each set twice in a burst
    for (let round = 0; round < 2; round++)
      for (let c = 0; c < 20; c++) {
        const files = Array.from({ length: 100 }, (_, i) => `d${c}/${'p'.repeat(100)}${i + round}.md`);
        void tracker.setFocus(T, WS, 'gw', `c${c}`, files);
      }
    await tracker.drain();
    await waitFor(() => received.length > 0, 5000, 'focus_list_changed');
    await sleep(500);
    const focus = received.filter((e) => e.type === 'focus_list_changed');
    expect(focus).toHaveLength(1); // 40 changes, one publication
    const json = workspaceEventJson(focus[0]!);
    expect(Buffer.byteLength(json)).toBeLessThanOrEqual(8 * 1024 + 100);
    const files = (focus[0] as { files: string[] }).files;
    expect(files.length).toBeGreaterThan(10);
    expect(files).toEqual([...files].sort());
    expect(truncated).toBe(1);
  } finally {
    sub.disconnect();
  }
});
