/**
 * y-protocols messages (the `payload` of a `/sync2` frame, or one `/yjs` WebSocket message).
 *
 * A payload is one or more messages, concatenated:
 *
 * ```
 * varUint(0) Sync            varUint(subtype) varUint8Array(data)
 *                              0 SyncStep1: data = state vector
 *                              1 SyncStep2: data = update (what the receiver lacks)
 *                              2 Update:    data = update (a live change)
 * varUint(1) Awareness       varUint8Array(awareness update)
 * varUint(2) Auth            varUint(0) varString(reason)      permission denied   (/yjs only)
 * varUint(3) QueryAwareness  (no content)                                          (/yjs only)
 * ```
 *
 * Sync exchange: each side sends SyncStep1 with its state vector; the other answers with
 * SyncStep2 containing exactly what the first side lacks; afterwards both sides send Update
 * messages for every change. Updates use Yjs encoding v1.
 *
 * Decoding is strict: a truncated varint or length, an unknown message type or sync subtype, or
 * a type the dialect does not allow (`sync2`: 0 and 1 only; `yjs`: 0-3) is a
 * {@link ProtocolError}; no other exception escapes.
 *
 * What y-protocols defines comes from it: the sync subtypes and `writeUpdate`
 * (`y-protocols/sync`), the Auth subtype and `writePermissionDenied` (`y-protocols/auth`).
 * y-protocols writes the inner part of a message only (its users, such as y-websocket, write the
 * outer type first) and has no outer type constants, so `MessageType` is here. Its
 * `writeSyncStep1/2` encode from a `Y.Doc` (the server's answer to a SyncStep1 uses them:
 * doc-sync-handler.ts); a {@link ProtocolMessage} carries bytes already encoded, so
 * {@link writeSyncStep1}/{@link writeSyncStep2} here write those, on y-protocols' constants.
 * Reading stays ours: y-protocols' readers trust lengths (strict-decoding.ts says why that matters).
 */
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as authProtocol from 'y-protocols/auth';
import * as syncProtocol from 'y-protocols/sync';
import { ProtocolError } from './errors';
import { hasMore, readVarStringStrict, readVarUint8ArrayStrict, readVarUintStrict } from './strict-decoding';

/** Outer message types. */
export const MessageType = {
  /** y-sync message (SyncStep1, SyncStep2, Update). */
  Sync: 0,
  /** Awareness update. */
  Awareness: 1,
  /** Auth message (only "permission denied" exists); `/yjs` endpoint only. */
  Auth: 2,
  /** Request for the current awareness states; `/yjs` endpoint only. */
  QueryAwareness: 3,
} as const;

/** Subtypes of a {@link MessageType.Sync} message (y-protocols' `messageYjs*` constants). */
export const SyncMessageType = {
  /** State vector of the sender. */
  SyncStep1: syncProtocol.messageYjsSyncStep1,
  /** Update with what the receiver of the SyncStep1 lacks. */
  SyncStep2: syncProtocol.messageYjsSyncStep2,
  /** A live document change. */
  Update: syncProtocol.messageYjsUpdate,
} as const;

/** Subtype of an {@link MessageType.Auth} message meaning "permission denied" (y-protocols/auth). */
export const AUTH_PERMISSION_DENIED = authProtocol.messagePermissionDenied;

/**
 * Which outer message types a payload may contain: `sync2` (the multiplexed endpoint) allows
 * Sync and Awareness; `yjs` (the y-websocket endpoint) also Auth and QueryAwareness.
 */
export type Dialect = 'sync2' | 'yjs';

/** One decoded y-protocols message. Byte fields are views into the decoded payload. */
export type ProtocolMessage =
  | { type: 'syncStep1'; stateVector: Uint8Array }
  | { type: 'syncStep2'; update: Uint8Array }
  | { type: 'update'; update: Uint8Array }
  | { type: 'awareness'; update: Uint8Array }
  | { type: 'permissionDenied'; reason: string }
  | { type: 'queryAwareness' };

/**
 * Writes a SyncStep1 (`0 0 varUint8Array(stateVector)`) of an encoded state vector
 * (y-protocols' `writeSyncStep1` encodes one from a `Y.Doc`).
 */
export function writeSyncStep1(encoder: encoding.Encoder, stateVector: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Sync);
  encoding.writeVarUint(encoder, SyncMessageType.SyncStep1);
  encoding.writeVarUint8Array(encoder, stateVector);
}

/**
 * Writes a SyncStep2 (`0 1 varUint8Array(update)`) of an encoded update (y-protocols'
 * `writeSyncStep2` encodes one from a `Y.Doc`).
 */
export function writeSyncStep2(encoder: encoding.Encoder, update: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Sync);
  encoding.writeVarUint(encoder, SyncMessageType.SyncStep2);
  encoding.writeVarUint8Array(encoder, update);
}

/** Writes an Update (`0 2 varUint8Array(update)`), by y-protocols' `writeUpdate`. */
export function writeUpdate(encoder: encoding.Encoder, update: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Sync);
  syncProtocol.writeUpdate(encoder, update);
}

/** Writes an Awareness message (`1 varUint8Array(awarenessUpdate)`). */
export function writeAwareness(encoder: encoding.Encoder, awarenessUpdate: Uint8Array): void {
  encoding.writeVarUint(encoder, MessageType.Awareness);
  encoding.writeVarUint8Array(encoder, awarenessUpdate);
}

/**
 * Writes an Auth "permission denied" message (`2 0 varString(reason)`), by y-protocols'
 * `writePermissionDenied`.
 */
export function writePermissionDenied(encoder: encoding.Encoder, reason: string): void {
  encoding.writeVarUint(encoder, MessageType.Auth);
  authProtocol.writePermissionDenied(encoder, reason);
}

/**
 * The Auth "permission denied" message a `/yjs` server sends when it refuses a viewer's changing
 * update (`2 0 varString("permission denied")`), built once. Do not mutate.
 */
export const PERMISSION_DENIED_REPLY: Uint8Array = (() => {
  const encoder = encoding.createEncoder();
  writePermissionDenied(encoder, 'permission denied');
  return encoding.toUint8Array(encoder);
})();

/** Writes a QueryAwareness message (`3`). */
export function writeQueryAwareness(encoder: encoding.Encoder): void {
  encoding.writeVarUint(encoder, MessageType.QueryAwareness);
}

/** Writes any {@link ProtocolMessage}. */
export function writeMessage(encoder: encoding.Encoder, message: ProtocolMessage): void {
  switch (message.type) {
    case 'syncStep1':
      return writeSyncStep1(encoder, message.stateVector);
    case 'syncStep2':
      return writeSyncStep2(encoder, message.update);
    case 'update':
      return writeUpdate(encoder, message.update);
    case 'awareness':
      return writeAwareness(encoder, message.update);
    case 'permissionDenied':
      return writePermissionDenied(encoder, message.reason);
    case 'queryAwareness':
      return writeQueryAwareness(encoder);
  }
}

/** Encodes one message as a payload. */
export function encodeMessage(message: ProtocolMessage): Uint8Array {
  const encoder = encoding.createEncoder();
  writeMessage(encoder, message);
  return encoding.toUint8Array(encoder);
}

/** Encodes several messages, concatenated, as one payload. */
export function encodeMessages(messages: readonly ProtocolMessage[]): Uint8Array {
  const encoder = encoding.createEncoder();
  for (const message of messages) writeMessage(encoder, message);
  return encoding.toUint8Array(encoder);
}

function isAllowed(type: number, dialect: Dialect): boolean {
  if (type === MessageType.Sync || type === MessageType.Awareness) return true;
  return dialect === 'yjs' && (type === MessageType.Auth || type === MessageType.QueryAwareness);
}

/**
 * Reads one message at the decoder's position.
 *
 * @throws {@link ProtocolError} on truncation, unknown/disallowed types or subtypes.
 */
export function readMessage(decoder: decoding.Decoder, dialect: Dialect = 'sync2'): ProtocolMessage {
  const type = readVarUintStrict(decoder, 'message type');
  if (!isAllowed(type, dialect)) {
    throw new ProtocolError('unknown_message_type', `unknown message type ${type} (${dialect})`);
  }
  switch (type) {
    case MessageType.Sync: {
      const subtype = readVarUintStrict(decoder, 'sync subtype');
      if (subtype === SyncMessageType.SyncStep1) {
        return { type: 'syncStep1', stateVector: readVarUint8ArrayStrict(decoder, 'state vector') };
      }
      if (subtype === SyncMessageType.SyncStep2) {
        return { type: 'syncStep2', update: readVarUint8ArrayStrict(decoder, 'sync step 2') };
      }
      if (subtype === SyncMessageType.Update) {
        return { type: 'update', update: readVarUint8ArrayStrict(decoder, 'update') };
      }
      throw new ProtocolError('unknown_message_type', `unknown sync subtype ${subtype}`);
    }
    case MessageType.Awareness:
      return { type: 'awareness', update: readVarUint8ArrayStrict(decoder, 'awareness') };
    case MessageType.Auth: {
      const subtype = readVarUintStrict(decoder, 'auth subtype');
      if (subtype !== AUTH_PERMISSION_DENIED) {
        throw new ProtocolError('unknown_message_type', `unknown auth subtype ${subtype}`);
      }
      return { type: 'permissionDenied', reason: readVarStringStrict(decoder, 'auth reason') };
    }
    default:
      return { type: 'queryAwareness' };
  }
}

/**
 * Decodes a payload holding one or more messages.
 *
 * @throws {@link ProtocolError} for an empty payload and any malformed or disallowed message.
 */
export function decodeMessages(payload: Uint8Array, dialect: Dialect = 'sync2'): ProtocolMessage[] {
  if (payload.length === 0) throw new ProtocolError('empty_payload', 'empty payload');
  const decoder = decoding.createDecoder(payload);
  const messages: ProtocolMessage[] = [];
  while (hasMore(decoder)) messages.push(readMessage(decoder, dialect));
  return messages;
}

/**
 * Splits a payload into one payload per message (byte views, validated). Use it to forward a
 * multi-message payload to stock y-websocket clients, which read only the first message of
 * each WebSocket message.
 *
 * @throws {@link ProtocolError} like {@link decodeMessages}.
 */
export function splitMessages(payload: Uint8Array, dialect: Dialect = 'sync2'): Uint8Array[] {
  if (payload.length === 0) throw new ProtocolError('empty_payload', 'empty payload');
  const decoder = decoding.createDecoder(payload);
  const parts: Uint8Array[] = [];
  while (hasMore(decoder)) {
    const start = decoder.pos;
    readMessage(decoder, dialect);
    parts.push(payload.subarray(start, decoder.pos));
  }
  return parts;
}
