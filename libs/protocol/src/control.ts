/**
 * Control messages: JSON text frames of the `/sync2` endpoint (docs/protocol.md#text-frames-json).
 *
 * Client → server: `FilesReady`/`files_ready` (ignored by this server), `focus`/`unfocus`
 * (body doc ids the client has open), `{action:"leave"|"save", doc}`, `ping`.
 * Server → client: `sync_complete`, `sync_progress`, `peer_joined`/`peer_left`,
 * `focus_list_changed`, `saved`, `error`, `pong`; plus `file_manifest` and `crdt_state`, the
 * optional Files-Ready handshake of other Diaryx servers (never sent by this cluster, accepted by
 * clients). Invalid JSON is answered with `{"type":"error","code":"bad_json"}`, anything else
 * unknown with `{"type":"error","code":"unknown_message"}`; the connection stays open.
 */
import { z } from 'zod';
import { ErrorCode } from './codes';

const count = z.number().int().nonnegative();

/** Schema of every client → server control message. Unknown extra keys are stripped. */
export const ClientControlMessageSchema = z.union([
  z.discriminatedUnion('type', [
    z.object({ type: z.literal('FilesReady') }),
    z.object({ type: z.literal('files_ready') }),
    z.object({ type: z.literal('focus'), files: z.array(z.string()) }),
    z.object({ type: z.literal('unfocus'), files: z.array(z.string()) }),
    z.object({ type: z.literal('ping') }),
  ]),
  z.discriminatedUnion('action', [
    z.object({ action: z.literal('leave'), doc: z.string() }),
    z.object({ action: z.literal('save'), doc: z.string() }),
  ]),
]);

/** A client → server control message. */
export type ClientControlMessage = z.infer<typeof ClientControlMessageSchema>;

/** Schema of every server → client control message (lenient where other Diaryx servers differ). */
export const ServerControlMessageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('sync_complete'), files_synced: count }),
  z.object({ type: z.literal('sync_progress'), completed: count, total: count }),
  z.object({
    type: z.literal('peer_joined'),
    workspace: z.string().optional(),
    peer_count: count.default(0),
  }),
  z.object({ type: z.literal('peer_left'), workspace: z.string().optional(), peer_count: count.default(0) }),
  z.object({
    type: z.literal('focus_list_changed'),
    workspace: z.string().optional(),
    files: z.array(z.string()),
  }),
  z.object({ type: z.literal('saved'), doc: z.string() }),
  z.object({
    type: z.literal('error'),
    code: z.string(),
    message: z.string().optional(),
    doc: z.string().optional(),
  }),
  z.object({ type: z.literal('pong') }),
  z.object({
    type: z.literal('file_manifest'),
    files: z.array(z.unknown()).default([]),
    client_is_new: z.boolean().default(false),
  }),
  z.object({ type: z.literal('crdt_state'), state: z.string() }),
]);

/** A server → client control message as parsed (defaults applied). */
export type ServerControlMessage = z.output<typeof ServerControlMessageSchema>;
/** A server → client control message as written (optional fields may be omitted). */
export type ServerControlMessageInput = z.input<typeof ServerControlMessageSchema>;

/** Why a text frame was rejected: not JSON, or JSON that is no known message. */
export type ControlParseErrorCode = typeof ErrorCode.BadJson | typeof ErrorCode.UnknownMessage;

/** Result of parsing a text frame. */
export type ControlParseResult<T> =
  | { ok: true; message: T }
  | {
      ok: false;
      /** `bad_json` or `unknown_message`. */
      code: ControlParseErrorCode;
      /** Human-readable detail (for logs). */
      detail: string;
      /** The exact error frame to answer with: `{"type":"error","code":…}`. */
      reply: string;
    };

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseWith<T>(
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  input: string | Uint8Array,
): ControlParseResult<T> {
  let json: unknown;
  try {
    const text = typeof input === 'string' ? input : utf8.decode(input);
    json = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      code: ErrorCode.BadJson,
      detail: error instanceof Error ? error.message : 'invalid JSON',
      reply: encodeServerControl(badJsonError()),
    };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    return {
      ok: false,
      code: ErrorCode.UnknownMessage,
      detail: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
      reply: encodeServerControl(unknownMessageError()),
    };
  }
  return { ok: true, message: parsed.data };
}

/**
 * Parses a client → server text frame (a string, or its UTF-8 bytes as delivered by `ws`).
 * Never throws: invalid JSON (or UTF-8) gives `bad_json`, anything else unknown
 * `unknown_message`, each with the exact error frame to reply.
 */
export function parseClientControl(text: string | Uint8Array): ControlParseResult<ClientControlMessage> {
  return parseWith(ClientControlMessageSchema, text);
}

/** Parses a server → client text frame (used by clients). Never throws. */
export function parseServerControl(text: string | Uint8Array): ControlParseResult<ServerControlMessage> {
  return parseWith(ServerControlMessageSchema, text);
}

/** Serializes a server → client control message as a JSON text frame. */
export function encodeServerControl(message: ServerControlMessageInput): string {
  return JSON.stringify(message);
}

/** `{"type":"error","code":"read_only","doc":docId}`: a viewer's changing update was refused. */
export function readOnlyError(docId: string): ServerControlMessageInput {
  return { type: 'error', code: ErrorCode.ReadOnly, doc: docId };
}

/** `{"type":"error","code":"unknown_message"}`. */
export function unknownMessageError(): ServerControlMessageInput {
  return { type: 'error', code: ErrorCode.UnknownMessage };
}

/** `{"type":"error","code":"bad_json"}`. */
export function badJsonError(): ServerControlMessageInput {
  return { type: 'error', code: ErrorCode.BadJson };
}

/** `{"type":"error","code":"focus_limit","message":…}`: a focus/unfocus beyond the limits, not applied. */
export function focusLimitError(message: string): ServerControlMessageInput {
  return { type: 'error', code: ErrorCode.FocusLimit, message };
}

/** `{"type":"sync_complete","files_synced":n}`. */
export function syncCompleteMessage(filesSynced: number): ServerControlMessageInput {
  return { type: 'sync_complete', files_synced: filesSynced };
}

/** `{"type":"saved","doc":docId}`. */
export function savedMessage(docId: string): ServerControlMessageInput {
  return { type: 'saved', doc: docId };
}

/** `{"type":"pong"}`. */
export function pongMessage(): ServerControlMessageInput {
  return { type: 'pong' };
}

/** `{"type":"peer_joined"|"peer_left","workspace":id,"peer_count":n}`. */
export function peerCountMessage(
  type: 'peer_joined' | 'peer_left',
  workspace: string,
  peerCount: number,
): ServerControlMessageInput {
  return { type, workspace, peer_count: peerCount };
}

/** `{"type":"focus_list_changed","workspace":id,"files":[path…]}`. */
export function focusListChangedMessage(
  workspace: string,
  files: readonly string[],
): ServerControlMessageInput {
  return { type: 'focus_list_changed', workspace, files: [...files] };
}
