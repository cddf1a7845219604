/**
 * The default WebSocket of a {@link SyncClient} in Node (the `ws` package) or elsewhere (the global
 * `WebSocket`). Its own module so that browser bundles, which import `./browser`, never see `ws`.
 */
import type { WebSocketFactory, WebSocketLike } from './transport';

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

/** The `ws` package in Node, the global `WebSocket` elsewhere. */
export function defaultWebSocketFactory(): WebSocketFactory {
  if (isNode()) {
    // Loaded lazily so that browser bundles never pull in `ws`.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ws = require('ws') as typeof import('ws');
    return (url, protocols) =>
      new ws.WebSocket(url, protocols, { perMessageDeflate: false }) as unknown as WebSocketLike;
  }
  const Global = (globalThis as { WebSocket?: new (url: string, protocols?: string[]) => WebSocketLike })
    .WebSocket;
  if (Global === undefined) throw new Error('no WebSocket implementation available');
  return (url, protocols) => new Global(url, protocols);
}
