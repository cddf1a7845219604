/**
 * Reading a WebSocket upgrade request: which endpoint it targets and which token it carries
 * (`?token=` or `Authorization: Bearer`, docs/protocol.md#the-multiplexed-endpoint-sync2 and #the-y-websocket-endpoint-yjsdocid).
 */
import type { IncomingMessage } from 'node:http';
import { extractBearerToken } from '../auth/bearer-token';

/** The real-time endpoint an upgrade request targets. */
export type UpgradeTarget =
  | { endpoint: 'sync2' }
  /** `docId` is URL-decoded but not yet validated. */
  | { endpoint: 'yjs'; docId: string }
  /** `/yjs/...` whose doc id is not valid percent-encoding. */
  | { endpoint: 'yjs'; docId: null };

/** Parses the request URL; null when the path is not one of ours (another handler may take it). */
export function upgradeTarget(req: IncomingMessage): UpgradeTarget | null {
  const pathname = requestUrl(req).pathname;
  if (pathname === '/sync2' || pathname === '/sync2/') return { endpoint: 'sync2' };
  if (pathname.startsWith('/yjs/')) {
    const raw = pathname.slice('/yjs/'.length);
    try {
      const docId = decodeURIComponent(raw);
      return { endpoint: 'yjs', docId: docId.length > 0 ? docId : null };
    } catch {
      return { endpoint: 'yjs', docId: null };
    }
  }
  return null;
}

/** The token of an upgrade request (`?token=` first, then a Bearer header). */
export function upgradeToken(req: IncomingMessage): string | undefined {
  const fromQuery = requestUrl(req).searchParams.get('token');
  if (fromQuery) return fromQuery;
  return extractBearerToken(req.headers.authorization);
}

function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://gateway.invalid');
  } catch {
    return new URL('http://gateway.invalid/');
  }
}
