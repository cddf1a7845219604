/**
 * One `/yjs/{docId}` socket (docs/protocol.md#the-y-websocket-endpoint-yjsdocid): the standard y-websocket protocol for a single
 * document (no doc-id prefix), so the stock `WebsocketProvider` works unchanged. The doc was
 * authorized at the upgrade. No JSON text frames are sent on this endpoint.
 */
import {
  CloseCode,
  decodeMessages,
  encodeMessages,
  PERMISSION_DENIED_REPLY,
  type ProtocolMessage,
} from '@diaryx-sync/protocol';
import type { TokenClaims } from '../auth/token-claims';
import { ClientConnection, CloseConnection, type ConnectionContext } from './client-connection';
import type { GatewaySocket } from './gateway-socket';
import type { DocRef } from './sync-hub';
import { changes, messageLabel } from './sync2-connection';

/** See module doc. */
export class YjsConnection extends ClientConnection {
  readonly endpoint = 'yjs' as const;
  private doc: DocRef | undefined;

  constructor(
    socket: GatewaySocket<ClientConnection>,
    claims: TokenClaims,
    ctx: ConnectionContext,
    private readonly docId: string,
  ) {
    super(socket, claims, ctx);
    // Subscribe first: every later message waits for it (ordered task queue).
    this.enqueue(async () => {
      this.doc = await this.useDoc(this.docId, this.parseDoc(this.docId));
    });
  }

  deliverReply(_docId: string, payloads: Uint8Array[], readOnlyViolation: boolean): void {
    // Stock clients read one message per WebSocket message: never concatenate.
    for (const p of payloads) this.sendBinary(p, 'reply');
    if (readOnlyViolation) this.sendBinary(PERMISSION_DENIED_REPLY, 'auth');
  }

  deliverBroadcast(_docId: string, _framed: () => Uint8Array, payload: Uint8Array): void {
    this.sendBinary(payload, 'broadcast');
  }

  deliverText(): void {
    // Presence and focus events are /sync2 features.
  }

  protected handleBinary(data: Buffer): void {
    if (data.length > this.ctx.settings.maxFrameBytes) {
      throw new CloseConnection(CloseCode.FrameTooLarge, 'frame too large');
    }
    const messages = decodeMessages(data, 'yjs');
    this.chargeRate(messages);
    const forwarded: ProtocolMessage[] = [];
    for (const m of messages) {
      this.ctx.metrics.framesReceived.inc({ type: messageLabel(m) });
      // A client's Auth message means nothing to the server; QueryAwareness is answered by the
      // shard with the doc's current awareness states.
      if (m.type !== 'permissionDenied') forwarded.push(m);
    }
    if (forwarded.length === 0 || !this.doc) return;
    this.noteMessages(this.docId, forwarded);
    this.forward(
      this.doc,
      forwarded.length === messages.length ? data : encodeMessages(forwarded),
      forwarded.some(changes),
    );
  }

  protected handleText(): void {
    throw new CloseConnection(
      CloseCode.ProtocolError,
      'text frames are not part of the y-websocket protocol',
    );
  }

  private sendBinary(bytes: Uint8Array, type: string): void {
    if (this.out.send(bytes)) {
      this.ctx.metrics.framesSent.inc({ type });
      this.ctx.metrics.bytesSent.inc(bytes.length);
    }
  }
}
