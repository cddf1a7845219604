import { SYNC_SUBPROTOCOL, TOKEN_SUBPROTOCOL_PREFIX } from '../subprotocols';

/**
 * The minimal WebSocket surface a {@link SyncClient} uses, satisfied both by the `ws` package
 * (Node) and by the browser's global `WebSocket`.
 */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: (event: { message?: string; error?: unknown }) => void): void;
}

/**
 * Opens a WebSocket to `url` offering `protocols` (`Sec-WebSocket-Protocol`; see
 * {@link syncSubprotocols}).
 */
export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;

/**
 * The subprotocols that authenticate a client: `['diaryx-sync', 'bearer.<jwt>']` (none without a
 * token). Headers stay out of proxy access logs, unlike a `?token=` URL.
 */
export function syncSubprotocols(token?: string): string[] {
  return token === undefined || token === '' ? [] : [SYNC_SUBPROTOCOL, `${TOKEN_SUBPROTOCOL_PREFIX}${token}`];
}

/** `WebSocket.OPEN`. */
export const WS_OPEN = 1;

/** Normalizes received data to a `Uint8Array` (binary) or a `string` (text). */
export function toMessageData(data: unknown): Uint8Array | string | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every((d) => d instanceof Uint8Array)) {
    const parts = data as Uint8Array[];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
  return undefined;
}

/**
 * The `/sync2` URL for a server address: a bare `ws://host:port` (or `http(s)://`) gets the
 * `/sync2` path; a token, when given, is added as `?token=` ({@link SyncClient} sends it in the
 * subprotocol list instead, {@link syncSubprotocols}).
 */
export function buildSyncUrl(serverUrl: string, token?: string): string {
  const url = new URL(serverUrl);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/sync2';
  if (token !== undefined && token !== '') url.searchParams.set('token', token);
  return url.toString();
}
