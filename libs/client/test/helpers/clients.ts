/** Test helpers: JWT-shaped tokens, a Node WebSocket for the SDK, polling. */
import { WebSocket as NodeWebSocket } from 'ws';
import { DiaryxClient, type DiaryxClientOptions, type WebSocketConstructor } from '../../src/index';

/** `ws` as the SDK's WebSocket constructor (the DOM type is what the SDK expects in browsers). */
export const NodeWebSocketConstructor = NodeWebSocket as unknown as WebSocketConstructor;

/** An unsigned JWT-shaped token carrying `exp` (seconds from now) and `role`; `nonce` makes it unique. */
export function fakeJwt(expInSeconds: number, role: 'editor' | 'viewer', nonce: string): string {
  const enc = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ alg: 'none' })}.${enc({ exp: Math.floor(Date.now() / 1000) + expInSeconds, role, n: nonce })}.sig`;
}

/** A connected client (not yet synced) with Node's WebSocket; destroyed by `destroyAll`. */
export function startClient(
  options: Omit<DiaryxClientOptions, 'WebSocket'>,
  created: DiaryxClient[],
): DiaryxClient {
  const client = new DiaryxClient({ ...options, WebSocket: NodeWebSocketConstructor });
  created.push(client);
  client.connect();
  return client;
}

/** Polls `predicate` every 25 ms until true or `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 10000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
