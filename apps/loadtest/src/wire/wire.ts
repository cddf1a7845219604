/**
 * Wire adapters: how a load client speaks to a server. Three dialects of the same y-protocols
 * sync messages (Sync 0 with SyncStep1 0 / SyncStep2 1 / Update 2):
 * - `sync2`: this cluster's multiplexed endpoint, `[u8 len][docId][payload]` frames (docs/ and
 *   the protocol package README);
 * - `yjs`: one doc per socket, no prefix (this cluster's `/yjs/:docId`, the y-websocket server);
 * - `hocuspocus`: a `varString(documentName)` prefix and an Auth message before sync.
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { MessageType, SyncMessageType, decodeFrame, encodeFrame } from '@diaryx-sync/protocol';

export type WireProtocol = 'sync2' | 'yjs' | 'hocuspocus';

export const WIRE_PROTOCOLS: readonly WireProtocol[] = ['sync2', 'yjs', 'hocuspocus'];

/** A decoded sync message of one doc. Awareness, auth and status messages come as `other`. */
export interface WireMessage {
  docId: string;
  kind: 'step1' | 'step2' | 'update' | 'other';
  data: Uint8Array;
}

/** Where and how clients connect. */
export interface WireEndpoint {
  protocol: WireProtocol;
  /** WebSocket base URL, e.g. `ws://127.0.0.1:8080` (no trailing slash). */
  base: string;
  /** Bearer token (`?token=` for this cluster, Auth message for Hocuspocus). */
  token: string;
}

const HOCUSPOCUS_AUTH = 2;
const HOCUSPOCUS_SYNC_REPLY = 4;

function syncMessage(subtype: number, data: Uint8Array, prefix?: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  prefix?.(e);
  encoding.writeVarUint(e, MessageType.Sync);
  encoding.writeVarUint(e, subtype);
  encoding.writeVarUint8Array(e, data);
  return encoding.toUint8Array(e);
}

/** Reads concatenated y-protocols messages of one doc (unknown outer types end the read). */
function readMessages(docId: string, d: decoding.Decoder, out: WireMessage[], hocuspocus = false): void {
  while (decoding.hasContent(d)) {
    const type = decoding.readVarUint(d);
    if (type === MessageType.Sync || (hocuspocus && type === HOCUSPOCUS_SYNC_REPLY)) {
      const subtype = decoding.readVarUint(d);
      const data = decoding.readVarUint8Array(d);
      const kind =
        subtype === SyncMessageType.SyncStep1
          ? 'step1'
          : subtype === SyncMessageType.SyncStep2
            ? 'step2'
            : 'update';
      out.push({ docId, kind, data });
    } else {
      out.push({ docId, kind: 'other', data: new Uint8Array(0) });
      return;
    }
    if (hocuspocus) return; // one message per WebSocket message
  }
}

/** Encoder/decoder of one protocol for one endpoint. */
export class Wire {
  constructor(readonly endpoint: WireEndpoint) {}

  get protocol(): WireProtocol {
    return this.endpoint.protocol;
  }

  /** True when one socket carries many docs (sync2, hocuspocus). */
  get multiplexed(): boolean {
    return this.endpoint.protocol !== 'yjs';
  }

  /** URL of the socket for `docId`. */
  socketUrl(docId: string): string {
    const token = encodeURIComponent(this.endpoint.token);
    switch (this.endpoint.protocol) {
      case 'sync2':
        return `${this.endpoint.base}/sync2?token=${token}`;
      case 'yjs':
        return `${this.endpoint.base}/${encodeURIComponent(docId)}?token=${token}`;
      case 'hocuspocus':
        return this.endpoint.base;
    }
  }

  private prefix(docId: string): ((e: encoding.Encoder) => void) | undefined {
    return this.endpoint.protocol === 'hocuspocus' ? (e) => encoding.writeVarString(e, docId) : undefined;
  }

  private wrap(docId: string, payload: Uint8Array): Uint8Array {
    return this.endpoint.protocol === 'sync2' ? encodeFrame(docId, payload) : payload;
  }

  /** Messages that subscribe a fresh socket to `docId`, announcing `stateVector`. */
  subscribe(docId: string, stateVector: Uint8Array): Uint8Array[] {
    const step1 = this.wrap(docId, syncMessage(SyncMessageType.SyncStep1, stateVector, this.prefix(docId)));
    if (this.endpoint.protocol !== 'hocuspocus') return [step1];
    const auth = encoding.createEncoder();
    encoding.writeVarString(auth, docId);
    encoding.writeVarUint(auth, HOCUSPOCUS_AUTH);
    encoding.writeVarUint(auth, 0);
    encoding.writeVarString(auth, this.endpoint.token);
    return [encoding.toUint8Array(auth), step1];
  }

  update(docId: string, update: Uint8Array): Uint8Array {
    return this.wrap(docId, syncMessage(SyncMessageType.Update, update, this.prefix(docId)));
  }

  step2(docId: string, update: Uint8Array): Uint8Array {
    return this.wrap(docId, syncMessage(SyncMessageType.SyncStep2, update, this.prefix(docId)));
  }

  /** Decodes one binary WebSocket message; `socketDocId` is the doc of a `yjs` socket. */
  decode(data: Uint8Array, socketDocId: string): WireMessage[] {
    const out: WireMessage[] = [];
    switch (this.endpoint.protocol) {
      case 'sync2': {
        const frame = decodeFrame(data);
        readMessages(frame.docId, decoding.createDecoder(frame.payload), out);
        break;
      }
      case 'yjs':
        readMessages(socketDocId, decoding.createDecoder(data), out);
        break;
      case 'hocuspocus': {
        const d = decoding.createDecoder(data);
        const docId = decoding.readVarString(d);
        readMessages(docId, d, out, true);
        break;
      }
    }
    return out;
  }

  /** JSON durability barrier for `docId` (`sync2` only; null when the server has none). */
  saveRequest(docId: string): string | null {
    return this.endpoint.protocol === 'sync2' ? JSON.stringify({ action: 'save', doc: docId }) : null;
  }
}
