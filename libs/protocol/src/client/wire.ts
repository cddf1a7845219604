/**
 * The client's single seam to the wire codec of this package (framing, doc ids, y-sync messages,
 * control messages). Adapts the throwing codec functions to the "undefined when unusable" style
 * the {@link SyncSession} uses for input coming from a server.
 */
import { decodeFrame as codecDecodeFrame, encodeFrame as codecEncodeFrame } from '../framing';
import { SyncMessageType, decodeMessages as codecDecodeMessages, encodeMessage } from '../sync';
import { parseServerControl, type ServerControlMessage } from '../control';
import { isPermanentCloseCode } from '../codes';

export type { ServerControlMessage };
export { SyncMessageType };

/** One decoded y-sync message of a frame payload (awareness messages are passed through). */
export type WireMessage =
  | { readonly kind: 'sync'; readonly subtype: 0 | 1 | 2; readonly data: Uint8Array }
  | { readonly kind: 'other' };

/** `[u8 len][docId][payload]`. */
export const encodeFrame = codecEncodeFrame;

/** Splits a frame; `undefined` when malformed. */
export function decodeFrame(frame: Uint8Array): { docId: string; payload: Uint8Array } | undefined {
  try {
    return codecDecodeFrame(frame);
  } catch {
    return undefined;
  }
}

/** Encodes one sync message. */
export function encodeSyncMessage(subtype: 0 | 1 | 2, data: Uint8Array): Uint8Array {
  if (subtype === SyncMessageType.SyncStep1) return encodeMessage({ type: 'syncStep1', stateVector: data });
  if (subtype === SyncMessageType.SyncStep2) return encodeMessage({ type: 'syncStep2', update: data });
  return encodeMessage({ type: 'update', update: data });
}

/** Decodes every message of a payload; `undefined` when malformed. */
export function decodeMessages(payload: Uint8Array): WireMessage[] | undefined {
  try {
    return codecDecodeMessages(payload).map((m): WireMessage => {
      switch (m.type) {
        case 'syncStep1':
          return { kind: 'sync', subtype: SyncMessageType.SyncStep1, data: m.stateVector };
        case 'syncStep2':
          return { kind: 'sync', subtype: SyncMessageType.SyncStep2, data: m.update };
        case 'update':
          return { kind: 'sync', subtype: SyncMessageType.Update, data: m.update };
        default:
          return { kind: 'other' };
      }
    });
  } catch {
    return undefined;
  }
}

/** Parses a server text frame; `undefined` for invalid JSON or unknown messages. */
export function parseServerMessage(text: string): ServerControlMessage | undefined {
  const result = parseServerControl(text);
  return result.ok ? result.message : undefined;
}

/** Close codes after which a client must not reconnect (4400-4499). */
export const isTerminalCloseCode = isPermanentCloseCode;
