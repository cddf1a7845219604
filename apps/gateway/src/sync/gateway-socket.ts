/**
 * The `ws` socket class of the gateway's WebSocket server (`WebSocketServer({ WebSocket })`).
 *
 * - `ws` closes a socket whose message exceeds `maxPayload` with 1009 before any handler runs;
 *   docs/protocol.md#close-codes wants 4413 for that case: {@link GatewaySocket.close} translates it
 *   (on the prototype: no wrapper closure per socket).
 * - `owner` points back at the connection handling the socket, so that its event listeners can be
 *   functions shared by every socket instead of closures allocated per socket.
 */
import { CloseCode } from '@diaryx-sync/protocol';
import WebSocket from 'ws';

/** See module doc. `T` is the connection type handling the socket. */
export class GatewaySocket<T = unknown> extends WebSocket {
  /** The connection handling this socket, once accepted. */
  owner: T | undefined = undefined;

  override close(code?: number, data?: string | Buffer): void {
    if (code === 1009) super.close(CloseCode.FrameTooLarge, 'frame too large');
    else super.close(code, data);
  }
}
