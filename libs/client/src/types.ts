/**
 * Public types of `@diaryx-sync/client` (README.md). Only these, the {@link DiaryxClient} class
 * and the error class are the package's API.
 */
import type * as Y from 'yjs';
import type { Awareness } from 'y-protocols/awareness';
import type { TokenProvider } from '@diaryx-sync/protocol/client';

/** Returns a fresh JWT; called before every connection and again before the current one expires. */
export type { TokenProvider };

/** The browser `WebSocket` constructor (or a compatible one, e.g. `ws` in Node). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/** Options of a {@link DiaryxClient}. */
export interface DiaryxClientOptions {
  /** Server address: `wss://sync.example.com` (the `/sync2` path is added) or a full `/sync2` URL. */
  readonly url: string;
  /** The workspace to sync. */
  readonly workspaceId: string;
  /** Token provider: called on every connect and before the token's `exp` (see `refreshBeforeExpiryMs`). */
  readonly token: TokenProvider;
  /** Refresh the token (and switch connections) this long before its `exp` (default 30000 ms). */
  readonly refreshBeforeExpiryMs?: number;
  /** Reconnect backoff: first delay (default 500 ms) and cap (default 15000 ms), ±30 % jitter. */
  readonly reconnect?: { readonly baseDelayMs?: number; readonly maxDelayMs?: number };
  /** How long {@link DiaryxClient.save} waits before rejecting (default 30000 ms). */
  readonly saveTimeoutMs?: number;
  /** WebSocket implementation (default: the global `WebSocket`). */
  readonly WebSocket?: WebSocketConstructor;
}

/** Connection state. `synced`: every file's body exchanged with the server on this connection. */
export type ClientStatus =
  | 'connecting'
  | 'connected'
  | 'syncing'
  | 'synced'
  | 'reconnecting'
  | 'disconnected'
  /** Terminal: refused by the server (bad token, forbidden, protocol error) or {@link DiaryxClient.destroy}ed. */
  | 'closed';

/** A role as carried by the token (`role` claim). */
export type ClientRole = 'editor' | 'viewer' | 'admin';

/** One live file of the workspace. */
export interface FileInfo {
  /** Canonical workspace-relative path, e.g. `notes/today.md`. */
  readonly path: string;
  /** `title` of the file's metadata, when set. */
  readonly title?: string;
  /** Last modification (milliseconds since the epoch) recorded in the workspace doc. */
  readonly modifiedAt: number;
}

/** Every event a {@link DiaryxClient} emits, by name. */
export interface ClientEvents {
  /** Connection state changed (`attempt`: consecutive failed attempts when reconnecting). */
  status: { readonly status: ClientStatus; readonly attempt?: number };
  /** A file appeared (local or remote). */
  'file-created': { readonly path: string; readonly remote: boolean };
  /** A file was deleted (local or remote). */
  'file-deleted': { readonly path: string; readonly remote: boolean };
  /** A file was renamed (local or remote). */
  'file-renamed': { readonly from: string; readonly to: string; readonly remote: boolean };
  /** Another client changed a file's body. */
  'body-changed': { readonly path: string };
  /** Number of connections on the workspace changed. */
  peers: { readonly peerCount: number };
  /** The workspace's focus list (body doc paths someone has open) changed. */
  'focus-list': { readonly paths: readonly string[] };
  /**
   * The server refused a local change: the token is read-only (`viewer`). The refused change
   * stays in the local document only; make editors read-only when {@link DiaryxClient.readOnly}.
   */
  'read-only': { readonly path: string | null };
  /** The token provider was called and a new token is in use. */
  'token-refreshed': { readonly expiresAt: number | null };
  /** The server reported an error (`code` from docs/protocol.md#error-codes). */
  'server-error': { readonly code: string; readonly message?: string; readonly path: string | null };
  /** The client stopped for good (`status` `closed`): why. */
  closed: { readonly code: number; readonly reason: string };
  /** A non-fatal problem (token provider failure, malformed frame…). */
  error: { readonly message: string };
}

/** Name of a {@link ClientEvents} event. */
export type ClientEventName = keyof ClientEvents;

/** A listener of event `K`. */
export type ClientListener<K extends ClientEventName> = (event: ClientEvents[K]) => void;

/** An open file: its Yjs doc, the markdown body text, and the file's presence. */
export interface OpenFile {
  /** Canonical path. */
  readonly path: string;
  /** The body document (edits in any transaction are sent automatically). */
  readonly doc: Y.Doc;
  /** The markdown body (`Y.Text` named `body`), e.g. for `y-codemirror.next`. */
  readonly text: Y.Text;
  /** Presence on this file (y-protocols `Awareness`), e.g. for `y-codemirror.next`. */
  readonly awareness: Awareness;
}
