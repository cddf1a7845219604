/**
 * Sending to a client socket with the per-connection send-buffer bound (docs/architecture.md#properties,
 * property 4): when the bytes queued in the socket exceed the bound, the consumer is too slow and
 * the connection is closed with 1013 instead of buffering without limit.
 */
import { CloseCode, truncateUtf8 } from '@diaryx-sync/protocol';
import type WebSocket from 'ws';

/** A `ws` socket with send-buffer accounting and idempotent close. */
export class BoundedSocket {
  private closing = false;

  constructor(
    readonly socket: WebSocket,
    private readonly maxBufferedBytes: number,
    private readonly onSlowConsumer: () => void = () => undefined,
  ) {}

  /** True once {@link close} was called or the socket is no longer open. */
  get isClosed(): boolean {
    return this.closing || this.socket.readyState !== this.socket.OPEN;
  }

  /** Sends binary or text data; closes with 1013 when the client cannot keep up. Returns false when not sent. */
  send(data: Uint8Array | string): boolean {
    if (this.isClosed) return false;
    if (this.socket.bufferedAmount > this.maxBufferedBytes) {
      this.onSlowConsumer();
      this.close(CloseCode.Overloaded, 'slow consumer: send buffer full');
      return false;
    }
    this.socket.send(data, { binary: typeof data !== 'string' });
    return true;
  }

  /** Sends a JSON control message as a text frame. */
  sendJson(message: object): boolean {
    return this.send(JSON.stringify(message));
  }

  /**
   * Closes with `code`; a peer that does not complete the closing handshake within 2 s (for
   * instance a slow consumer with a full buffer) is terminated.
   */
  close(code: number, reason = ''): void {
    if (this.closing) return;
    this.closing = true;
    const { socket } = this;
    if (socket.readyState === socket.CLOSED) return;
    try {
      socket.close(code, truncateUtf8(reason));
    } catch {
      socket.terminate();
      return;
    }
    const timer = setTimeout(() => socket.terminate(), 2000);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }
}
