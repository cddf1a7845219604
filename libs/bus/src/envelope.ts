/**
 * Binary envelopes exchanged on Redis pub/sub between gateways, doc services and
 * `ClusterClient`s. Payload bytes travel as-is (never JSON/base64).
 *
 * ## Message flow
 *
 * ```
 *  gateway ──frame/save/leave/disconnect/focus──▶ shardInboxChannel(p, shardOf(tenant, docId, SHARD_COUNT))
 *  ClusterClient ──apply──────────────────────────▶ shardInboxChannel(…)
 *  shard owner ──reply/saved/error──▶ gatewayChannel(p, gatewayId)        (to the sender only)
 *  shard owner ──applied/error──────▶ gatewayChannel(p, replyTo)          (ClusterClient)
 *  shard owner ──broadcast──────────▶ docChannel(p, tenant, docId)        (every gateway using the doc)
 *  shard owner ──workspace_event────▶ workspaceChannel(p, tenant, ws)     (peer_joined/peer_left/focus_list_changed)
 *  shard owner ──shard_acquired─────▶ shardEventsChannel(p)               (a shard got a (new) owner)
 *  gateway ──workspace_deleted──────▶ every shardInboxChannel + workspaceDeletionsChannel(p)
 *  shard owner ──workspace_ended────▶ gatewayChannel(p, replyTo)          (that shard ended it)
 * ```
 *
 * 1. A client binary frame `[len][docId][payload]` becomes one `frame` envelope (the gateway has
 *    already authorized the doc; `payload` = the y-protocols messages). The shard owner loads the
 *    doc if needed, applies the payload with the server-side sync handler, persists any change
 *    (group commit), THEN publishes `reply` to the sender's gateway and, if the doc changed or
 *    awareness must be relayed, ONE `broadcast` per outgoing message on the doc channel.
 *    `reply.payloads` are the y-protocols messages to send back to that connection only, in order;
 *    `reply.ack` = true means the frame is processed and its changes are durable: the gateway
 *    drops it from its retry buffer. `reply.readOnlyViolation` = a viewer tried to change the doc
 *    (send `{"type":"error","code":"read_only","doc"}` on /sync2, the Auth "permission denied"
 *    message on /yjs). `reply.syncComplete` ≠ null: after the payloads, send
 *    `{"type":"sync_complete","files_synced":syncComplete}` (/sync2 only). A payload larger
 *    than `INLINE_PAYLOAD_MAX_BYTES` (the SyncStep2 of a big doc) travels as a {@link PayloadRef}
 *    to a Redis key instead (`payload-store.ts`): the gateway fetches it, in order.
 * 2. No reply within the gateway's timeout (no owner, owner crashed, shard moving): re-publish
 *    the same envelope (same msgId). Re-applying is harmless. A `shard_acquired` event for the
 *    frame's shard is a good moment to re-send at once.
 * 3. `save` is answered with `saved` once everything that connection sent for the doc before the
 *    `save` is durable in PostgreSQL (same inbox, so per-publisher ordering holds).
 * 4. `leave` (client `{"action":"leave"}`) and `disconnect` (socket closed; one per doc the
 *    connection used) remove the connection from the doc: its awareness states are removed for
 *    the others (broadcast) and, for a workspace doc, it leaves the workspace's peers/focus set.
 * 5. `focus` carries a connection's COMPLETE focus set (paths) for one workspace; send it to the
 *    shard of that workspace's doc (`docId` = `workspace:{id}`). Idempotent, so it can be retried.
 *    `leave`, `disconnect` and `focus` get no answer but are idempotent: when PUBLISH reports 0
 *    receivers (no owner right now), keep them and re-send on the next `shard_acquired` of that
 *    shard, otherwise presence counts stay inflated until the gateway itself dies.
 * 6. `broadcast`: forward `payload` to every local socket subscribed to `docId`, except the
 *    origin connection (`originGatewayId` = own id and `originConnId` = socket). Encoded once by
 *    the shard owner; every gateway forwards the same bytes.
 * 7. `error`: `code` is one of {@link BusErrorCode}. `bad_payload`: the frame could not be decoded
 *    or applied (close that connection with 4400; do not retry). `not_found`: the doc's
 *    workspace does not exist (close with 4403). `unavailable`: retry later (or 1013 after the
 *    bound). `internal`: unexpected failure, retry.
 * 8. `workspace_deleted` (docs/workspace-deletion.md): after the workspace row is gone, the
 *    deleting gateway publishes it to EVERY shard inbox and to `workspaceDeletionsChannel`. Each
 *    shard owner drops the workspace's docs of that shard (nothing more is acknowledged for them)
 *    and answers `workspace_ended` with its shard; every gateway closes its connections to the
 *    workspace's docs with 4403. The deleting gateway re-sends to shards that have not answered
 *    (no owner right now) until all did or its deadline passed, then deletes storage.
 * 9. `share_revoked` (docs/protocol.md#share-links): a share link was revoked; published to
 *    `workspaceDeletionsChannel`, every gateway closes the connections whose token was issued for
 *    that share with 4403.
 */
import {
  encodeServerControl,
  focusListChangedMessage,
  isProtocolError,
  peerCountMessage,
  readBytesStrict,
  readVarUint8ArrayStrict,
  readVarUintStrict,
  type Role,
} from '@diaryx-sync/protocol';
import type * as Lib0Decoding from 'lib0/decoding' with { 'resolution-mode': 'import' };
import type * as Lib0Encoding from 'lib0/encoding' with { 'resolution-mode': 'import' };

// lib0 ships ESM typings with a CommonJS build: load the CJS build, typed by the ESM declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const encoding = require('lib0/encoding') as typeof Lib0Encoding;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const decoding = require('lib0/decoding') as typeof Lib0Decoding;

/** gateway → shard: one client binary frame for `docId`. */
export interface FrameEnvelope {
  type: 'frame';
  msgId: string;
  gatewayId: string;
  connId: string;
  tenant: string;
  role: Role;
  docId: string;
  /** One or more y-protocols messages (the frame without its doc-id prefix). */
  payload: Uint8Array;
  /** Optional: gateway receive time (`Date.now()` ms) for the `diaryx_update_stage_seconds` metric. */
  receivedAt?: number;
  /**
   * Optional: who sent it (docs/protocol.md#who-changed-what): the token `sub` and its
   * `device_name` claim, stored with the update. Encoded as a trailing pair of strings ('' =
   * unknown) only when one is set, so frames without them keep the former encoding.
   */
  userId?: string;
  deviceName?: string;
}

/** gateway → shard: durability barrier (client `{"action":"save"}`). */
export interface SaveEnvelope {
  type: 'save';
  msgId: string;
  gatewayId: string;
  connId: string;
  tenant: string;
  docId: string;
}

/** gateway → shard: the connection unsubscribed from `docId` (client `{"action":"leave"}`). */
export interface LeaveEnvelope {
  type: 'leave';
  gatewayId: string;
  connId: string;
  tenant: string;
  docId: string;
}

/** gateway → shard: the connection closed; sent once per doc it was subscribed to. */
export interface DisconnectEnvelope {
  type: 'disconnect';
  gatewayId: string;
  connId: string;
  tenant: string;
  docId: string;
}

/** gateway → shard of the workspace doc: the connection's complete focus set in that workspace. */
export interface FocusEnvelope {
  type: 'focus';
  gatewayId: string;
  connId: string;
  tenant: string;
  /** The workspace doc id, `workspace:{id}` (routes the envelope). */
  docId: string;
  /** Workspace-relative paths the connection has open (empty = none). */
  files: string[];
}

/** ClusterClient → shard: apply a server-side forward update (restore, rebuild, import). */
export interface ApplyEnvelope {
  type: 'apply';
  msgId: string;
  /** Reply channel id: answers go to `gatewayChannel(prefix, replyTo)`. */
  replyTo: string;
  tenant: string;
  docId: string;
  /** A Yjs update (encoding v1). */
  update: Uint8Array;
  /** Stored as the update log's `origin` (e.g. `restore`, `rebuild`, `import`). */
  origin: string;
}

/**
 * A reply payload stored under a Redis key instead of travelling inline (`payload-store.ts`).
 * On the wire: an empty byte array (never a valid message) followed by the key.
 */
export interface PayloadRef {
  key: string;
}

/** shard → gateway: the answer to one `frame`. */
export interface ReplyEnvelope {
  type: 'reply';
  connId: string;
  docId: string;
  msgId: string;
  /**
   * y-protocols messages for this connection only, in order (each one message, no doc-id
   * prefix); a large one as a reference to where it is stored (`payload-store.ts`).
   */
  payloads: (Uint8Array | PayloadRef)[];
  readOnlyViolation: boolean;
  /** The frame is processed and durable: stop retrying it. */
  ack: boolean;
  /** When not null, send `{"type":"sync_complete","files_synced":N}` after the payloads. */
  syncComplete: number | null;
}

/** shard → gateway: the answer to `save`. */
export interface SavedEnvelope {
  type: 'saved';
  connId: string;
  docId: string;
  msgId: string;
}

/** Error codes of {@link ErrorEnvelope}. */
export type BusErrorCode = 'bad_payload' | 'not_found' | 'unavailable' | 'internal';

/** shard → gateway/ClusterClient: a frame/save/apply failed. */
export interface ErrorEnvelope {
  type: 'error';
  /** Empty for `apply` errors. */
  connId: string;
  docId: string;
  msgId: string;
  code: BusErrorCode;
  message: string;
}

/** shard → ClusterClient: the `apply` is applied, durable and broadcast. */
export interface AppliedEnvelope {
  type: 'applied';
  msgId: string;
  docId: string;
}

/** shard → every gateway using the doc: one y-protocols message to forward verbatim. */
export interface BroadcastEnvelope {
  type: 'broadcast';
  tenant: string;
  docId: string;
  /** Empty strings for server-side updates (`apply`, awareness cleanup). */
  originGatewayId: string;
  originConnId: string;
  payload: Uint8Array;
  /** Optional: the originating frame's gateway receive time (ms), for the `delivered` stage metric. */
  receivedAt?: number;
}

/** A workspace event sent to the connections of that workspace as a JSON text frame. */
export type WorkspaceEvent =
  | { type: 'peer_joined'; workspace: string; peer_count: number }
  | { type: 'peer_left'; workspace: string; peer_count: number }
  | { type: 'focus_list_changed'; workspace: string; files: string[] };

/** shard → workspaceChannel: presence/focus change, forward `JSON.stringify(event)` as text (/sync2 only). */
export interface WorkspaceEventEnvelope {
  type: 'workspace_event';
  tenant: string;
  event: WorkspaceEvent;
}

/** shard owner → shardEventsChannel: `instanceId` now owns `shard` with fencing `token`. */
export interface ShardAcquiredEnvelope {
  type: 'shard_acquired';
  shard: number;
  instanceId: string;
  token: number;
}

/** gateway → every shard inbox and `workspaceDeletionsChannel`: the workspace was deleted. */
export interface WorkspaceDeletedEnvelope {
  type: 'workspace_deleted';
  msgId: string;
  /** Answers (`workspace_ended`) go to `gatewayChannel(prefix, replyTo)`. */
  replyTo: string;
  tenant: string;
  workspace: string;
}

/** gateway → `workspaceDeletionsChannel`: share link `share` of the workspace was revoked. */
export interface ShareRevokedEnvelope {
  type: 'share_revoked';
  tenant: string;
  workspace: string;
  /** The share id (the `share` claim of the tokens issued for it). */
  share: string;
}

/** shard owner → the deleting gateway: `shard` dropped the workspace's docs. */
export interface WorkspaceEndedEnvelope {
  type: 'workspace_ended';
  msgId: string;
  shard: number;
}

/** Envelopes published to a shard inbox. */
export type InboxEnvelope =
  FrameEnvelope | SaveEnvelope | LeaveEnvelope | DisconnectEnvelope | FocusEnvelope | ApplyEnvelope;
/** Envelopes published to a gateway (reply) channel. */
export type ReplyChannelEnvelope = ReplyEnvelope | SavedEnvelope | ErrorEnvelope | AppliedEnvelope;
/** Every envelope. */
export type Envelope =
  | InboxEnvelope
  | ReplyChannelEnvelope
  | BroadcastEnvelope
  | WorkspaceEventEnvelope
  | ShardAcquiredEnvelope
  | WorkspaceDeletedEnvelope
  | WorkspaceEndedEnvelope
  | ShareRevokedEnvelope;

/** Thrown by {@link decodeEnvelope} for any malformed input (never another error type). */
export class EnvelopeDecodeError extends Error {
  override readonly name = 'EnvelopeDecodeError';
}

/** Format version byte, first byte of every envelope. */
export const ENVELOPE_VERSION = 1;

const KIND = {
  frame: 1,
  save: 2,
  leave: 3,
  disconnect: 4,
  focus: 5,
  apply: 6,
  reply: 20,
  saved: 21,
  error: 22,
  applied: 23,
  workspace_ended: 24,
  broadcast: 40,
  workspace_event: 41,
  shard_acquired: 42,
  workspace_deleted: 43,
  share_revoked: 44,
} as const satisfies Record<Envelope['type'], number>;

/** Role byte of a `frame` envelope: the index in this table (never reorder it). */
const ROLE_CODES: readonly Role[] = ['editor', 'viewer', 'admin'];
const ERROR_CODES: readonly BusErrorCode[] = ['bad_payload', 'not_found', 'unavailable', 'internal'];
const WS_EVENTS = ['peer_joined', 'peer_left', 'focus_list_changed'] as const;

/** Encodes an envelope: `[u8 version][varUint kind][fields…]` with lib0 encoding. */
function indexOrThrow<T>(values: readonly T[], v: T, what: string): number {
  const i = values.indexOf(v);
  if (i < 0) throw new TypeError(`cannot encode unknown ${what} ${String(v)}`);
  return i;
}

const EMPTY = new Uint8Array(0);

export function encodeEnvelope(env: Envelope): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeUint8(e, ENVELOPE_VERSION);
  encoding.writeVarUint(e, KIND[env.type]);
  const s = (v: string) => encoding.writeVarString(e, v);
  const b = (v: Uint8Array) => encoding.writeVarUint8Array(e, v);
  const bool = (v: boolean) => encoding.writeUint8(e, v ? 1 : 0);
  // optional non-negative integer: 0 = absent, n + 1 otherwise
  const optTime = (v: number | undefined) =>
    encoding.writeVarUint(e, v === undefined ? 0 : Math.max(0, Math.floor(v)) + 1);
  switch (env.type) {
    case 'frame':
      s(env.msgId);
      s(env.gatewayId);
      s(env.connId);
      s(env.tenant);
      encoding.writeUint8(e, indexOrThrow(ROLE_CODES, env.role, 'role'));
      s(env.docId);
      b(env.payload);
      optTime(env.receivedAt);
      if (env.userId !== undefined || env.deviceName !== undefined) {
        s(env.userId ?? '');
        s(env.deviceName ?? '');
      }
      break;
    case 'save':
      s(env.msgId);
      s(env.gatewayId);
      s(env.connId);
      s(env.tenant);
      s(env.docId);
      break;
    case 'leave':
    case 'disconnect':
      s(env.gatewayId);
      s(env.connId);
      s(env.tenant);
      s(env.docId);
      break;
    case 'focus':
      s(env.gatewayId);
      s(env.connId);
      s(env.tenant);
      s(env.docId);
      encoding.writeVarUint(e, env.files.length);
      env.files.forEach(s);
      break;
    case 'apply':
      s(env.msgId);
      s(env.replyTo);
      s(env.tenant);
      s(env.docId);
      b(env.update);
      s(env.origin);
      break;
    case 'reply':
      s(env.connId);
      s(env.docId);
      s(env.msgId);
      encoding.writeVarUint(e, env.payloads.length);
      for (const p of env.payloads) {
        if (p instanceof Uint8Array) {
          if (p.length === 0) throw new TypeError('cannot encode an empty reply payload');
          b(p);
        } else {
          b(EMPTY);
          s(p.key);
        }
      }
      bool(env.readOnlyViolation);
      bool(env.ack);
      // syncComplete: 0 = null, n + 1 otherwise.
      encoding.writeVarUint(e, env.syncComplete === null ? 0 : env.syncComplete + 1);
      break;
    case 'saved':
      s(env.connId);
      s(env.docId);
      s(env.msgId);
      break;
    case 'error':
      s(env.connId);
      s(env.docId);
      s(env.msgId);
      encoding.writeUint8(e, indexOrThrow(ERROR_CODES, env.code, 'error code'));
      s(env.message);
      break;
    case 'applied':
      s(env.msgId);
      s(env.docId);
      break;
    case 'broadcast':
      s(env.tenant);
      s(env.docId);
      s(env.originGatewayId);
      s(env.originConnId);
      b(env.payload);
      optTime(env.receivedAt);
      break;
    case 'workspace_event': {
      s(env.tenant);
      const ev = env.event;
      encoding.writeUint8(e, indexOrThrow(WS_EVENTS, ev.type, 'workspace event'));
      s(ev.workspace);
      if (ev.type === 'focus_list_changed') {
        encoding.writeVarUint(e, ev.files.length);
        ev.files.forEach(s);
      } else {
        encoding.writeVarUint(e, ev.peer_count);
      }
      break;
    }
    case 'shard_acquired':
      encoding.writeVarUint(e, env.shard);
      s(env.instanceId);
      encoding.writeVarUint(e, env.token);
      break;
    case 'workspace_deleted':
      s(env.msgId);
      s(env.replyTo);
      s(env.tenant);
      s(env.workspace);
      break;
    case 'workspace_ended':
      s(env.msgId);
      encoding.writeVarUint(e, env.shard);
      break;
    case 'share_revoked':
      s(env.tenant);
      s(env.workspace);
      s(env.share);
      break;
  }
  return encoding.toUint8Array(e);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Bounds-checked reader (never reads past the end, even on pooled Node buffers): the strict
 * varint/byte readers of `@diaryx-sync/protocol` (`strict-decoding.ts`), their `ProtocolError`
 * reported as an {@link EnvelopeDecodeError}.
 */
class Reader {
  private readonly decoder: Lib0Decoding.Decoder;
  constructor(private readonly buf: Uint8Array) {
    this.decoder = decoding.createDecoder(buf);
  }

  private get pos(): number {
    return this.decoder.pos;
  }

  private strict<T>(read: () => T): T {
    try {
      return read();
    } catch (err) {
      if (isProtocolError(err)) throw new EnvelopeDecodeError(err.reason);
      throw err;
    }
  }

  u8(): number {
    return this.strict(() => readBytesStrict(this.decoder, 1, 'envelope')[0]!);
  }

  varUint(): number {
    return this.strict(() => readVarUintStrict(this.decoder, 'envelope varUint'));
  }

  bytes(): Uint8Array {
    return this.strict(() => readVarUint8ArrayStrict(this.decoder, 'envelope bytes'));
  }

  str(): string {
    try {
      return strictUtf8.decode(this.bytes());
    } catch (err) {
      if (err instanceof EnvelopeDecodeError) throw err;
      throw new EnvelopeDecodeError('invalid UTF-8 string');
    }
  }

  bool(): boolean {
    const v = this.u8();
    if (v > 1) throw new EnvelopeDecodeError('invalid boolean');
    return v === 1;
  }

  /** Array length, bounded by the bytes left (each element takes at least one byte). */
  count(): number {
    const n = this.varUint();
    if (n > this.buf.length - this.pos) throw new EnvelopeDecodeError('array length exceeds envelope');
    return n;
  }

  pick<T>(values: readonly T[], what: string): T {
    const i = this.u8();
    const v = values[i];
    if (v === undefined) throw new EnvelopeDecodeError(`unknown ${what} ${i}`);
    return v;
  }

  /** True while unread bytes remain (optional trailing fields). */
  hasMore(): boolean {
    return this.pos < this.buf.length;
  }

  end(): void {
    if (this.pos !== this.buf.length) throw new EnvelopeDecodeError('trailing bytes after envelope');
  }
}

/**
 * Decodes an envelope. Byte arrays in the result are views on `data` (no copy).
 * @throws {EnvelopeDecodeError} for truncated, oversized, unknown or trailing input.
 */
export function decodeEnvelope(data: Uint8Array): Envelope {
  const r = new Reader(data);
  const version = r.u8();
  if (version !== ENVELOPE_VERSION) throw new EnvelopeDecodeError(`unsupported envelope version ${version}`);
  const kind = r.varUint();
  let env: Envelope;
  switch (kind) {
    case KIND.frame:
      env = {
        type: 'frame',
        msgId: r.str(),
        gatewayId: r.str(),
        connId: r.str(),
        tenant: r.str(),
        role: r.pick(ROLE_CODES, 'role'),
        docId: r.str(),
        payload: r.bytes(),
      };
      withTime(env, r.varUint());
      if (r.hasMore()) withAuthor(env, r.str(), r.str());
      break;
    case KIND.save:
      env = {
        type: 'save',
        msgId: r.str(),
        gatewayId: r.str(),
        connId: r.str(),
        tenant: r.str(),
        docId: r.str(),
      };
      break;
    case KIND.leave:
    case KIND.disconnect:
      env = {
        type: kind === KIND.leave ? 'leave' : 'disconnect',
        gatewayId: r.str(),
        connId: r.str(),
        tenant: r.str(),
        docId: r.str(),
      };
      break;
    case KIND.focus: {
      const head = { gatewayId: r.str(), connId: r.str(), tenant: r.str(), docId: r.str() };
      const files: string[] = [];
      for (let n = r.count(); n > 0; n--) files.push(r.str());
      env = { type: 'focus', ...head, files };
      break;
    }
    case KIND.apply:
      env = {
        type: 'apply',
        msgId: r.str(),
        replyTo: r.str(),
        tenant: r.str(),
        docId: r.str(),
        update: r.bytes(),
        origin: r.str(),
      };
      break;
    case KIND.reply: {
      const head = { connId: r.str(), docId: r.str(), msgId: r.str() };
      const payloads: (Uint8Array | PayloadRef)[] = [];
      for (let n = r.count(); n > 0; n--) {
        const bytes = r.bytes();
        payloads.push(bytes.length > 0 ? bytes : { key: r.str() });
      }
      const readOnlyViolation = r.bool();
      const ack = r.bool();
      const sc = r.varUint();
      env = {
        type: 'reply',
        ...head,
        payloads,
        readOnlyViolation,
        ack,
        syncComplete: sc === 0 ? null : sc - 1,
      };
      break;
    }
    case KIND.saved:
      env = { type: 'saved', connId: r.str(), docId: r.str(), msgId: r.str() };
      break;
    case KIND.error:
      env = {
        type: 'error',
        connId: r.str(),
        docId: r.str(),
        msgId: r.str(),
        code: r.pick(ERROR_CODES, 'error code'),
        message: r.str(),
      };
      break;
    case KIND.applied:
      env = { type: 'applied', msgId: r.str(), docId: r.str() };
      break;
    case KIND.broadcast:
      env = {
        type: 'broadcast',
        tenant: r.str(),
        docId: r.str(),
        originGatewayId: r.str(),
        originConnId: r.str(),
        payload: r.bytes(),
      };
      withTime(env, r.varUint());
      break;
    case KIND.workspace_event: {
      const tenant = r.str();
      const evType = r.pick(WS_EVENTS, 'workspace event');
      const workspace = r.str();
      let event: WorkspaceEvent;
      if (evType === 'focus_list_changed') {
        const files: string[] = [];
        for (let n = r.count(); n > 0; n--) files.push(r.str());
        event = { type: evType, workspace, files };
      } else {
        event = { type: evType, workspace, peer_count: r.varUint() };
      }
      env = { type: 'workspace_event', tenant, event };
      break;
    }
    case KIND.shard_acquired:
      env = { type: 'shard_acquired', shard: r.varUint(), instanceId: r.str(), token: r.varUint() };
      break;
    case KIND.workspace_deleted:
      env = {
        type: 'workspace_deleted',
        msgId: r.str(),
        replyTo: r.str(),
        tenant: r.str(),
        workspace: r.str(),
      };
      break;
    case KIND.workspace_ended:
      env = { type: 'workspace_ended', msgId: r.str(), shard: r.varUint() };
      break;
    case KIND.share_revoked:
      env = { type: 'share_revoked', tenant: r.str(), workspace: r.str(), share: r.str() };
      break;
    default:
      throw new EnvelopeDecodeError(`unknown envelope kind ${kind}`);
  }
  r.end();
  return env;
}

function withAuthor(env: { userId?: string; deviceName?: string }, userId: string, deviceName: string): void {
  if (userId !== '') env.userId = userId;
  if (deviceName !== '') env.deviceName = deviceName;
}

function withTime(env: { receivedAt?: number }, raw: number): void {
  if (raw > 0) env.receivedAt = raw - 1;
}

/** Decodes and checks that the envelope is one of the allowed `types` (else {@link EnvelopeDecodeError}). */
export function decodeEnvelopeOf<T extends Envelope['type']>(
  data: Uint8Array,
  types: readonly T[],
): Extract<Envelope, { type: T }> {
  const env = decodeEnvelope(data);
  if (!(types as readonly string[]).includes(env.type)) {
    throw new EnvelopeDecodeError(`unexpected envelope ${env.type} (expected ${types.join('|')})`);
  }
  return env as Extract<Envelope, { type: T }>;
}

/** The JSON text frame a gateway sends to /sync2 clients for a workspace event (built by the protocol's control-message builders). */
export function workspaceEventJson(event: WorkspaceEvent): string {
  return encodeServerControl(
    event.type === 'focus_list_changed'
      ? focusListChangedMessage(event.workspace, event.files)
      : peerCountMessage(event.type, event.workspace, event.peer_count),
  );
}
