/**
 * @diaryx-sync/client: the browser SDK of Diaryx Sync (README.md). Public API: {@link DiaryxClient},
 * {@link DiaryxClientError} and the types below; everything else is internal.
 */
export { DiaryxClient } from './diaryx-client';
export { DiaryxClientError, type DiaryxClientErrorCode } from './errors';
export type {
  ClientEventName,
  ClientEvents,
  ClientListener,
  ClientRole,
  ClientStatus,
  DiaryxClientOptions,
  FileInfo,
  OpenFile,
  TokenProvider,
  WebSocketConstructor,
} from './types';
