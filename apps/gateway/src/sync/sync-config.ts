/**
 * Settings of the real-time endpoints (`/sync2`, `/yjs/:docId`): environment variables (part of
 * the gateway's configuration, `gatewayConfigSchema`, parsed once at start-up) and their typed form. Every limit of docs/architecture.md#properties, property 4 that the gateway enforces lives here.
 */
import { z } from 'zod';

const positiveInt = (def: number) => z.coerce.number().int().positive().default(def);
const nonNegativeInt = (def: number) => z.coerce.number().int().nonnegative().default(def);

export const syncEnvSchema = z.object({
  /** Largest accepted WebSocket frame in bytes; bigger frames close the connection with 4413. */
  SYNC_MAX_FRAME_BYTES: positiveInt(16 * 1024 * 1024),
  /**
   * Sustained rate per connection of binary frames carrying changes or awareness (frames/s;
   * SyncStep1-only frames are free); above it the connection closes with 1008.
   */
  SYNC_UPDATE_RATE: positiveInt(500),
  /** Token-bucket burst per connection (frames; the initial sync answers one SyncStep2 per doc). */
  SYNC_UPDATE_BURST: positiveInt(5000),
  /**
   * Sustained rate per connection of text (JSON control) frames, frames/s; above it the connection
   * closes with 1008 like for binary frames.
   */
  SYNC_CONTROL_RATE: positiveInt(20),
  /** Token-bucket burst per connection of text frames. */
  SYNC_CONTROL_BURST: positiveInt(60),
  /**
   * Sustained rate per connection of doc ids in `focus`/`unfocus` messages (ids/s; each costs a
   * doc-id validation and presence work); above it the connection closes with 1008.
   */
  SYNC_FOCUS_RATE: positiveInt(100),
  /** Token-bucket burst per connection of focus doc ids. */
  SYNC_FOCUS_BURST: positiveInt(200),
  /** Largest text (JSON control) frame in bytes; a bigger one closes the connection with 4413. */
  SYNC_MAX_CONTROL_BYTES: positiveInt(32 * 1024),
  /** Most doc ids in one `focus`/`unfocus` message; more is refused with `focus_limit`. */
  SYNC_MAX_FOCUS_PER_MESSAGE: positiveInt(100),
  /** Most focused paths per connection (all workspaces); a focus beyond is refused with `focus_limit`. */
  SYNC_MAX_FOCUS_PER_CONNECTION: positiveInt(200),
  /** Bytes a connection may have queued for sending; a slower consumer is closed with 1013. */
  SYNC_MAX_BUFFERED_BYTES: positiveInt(32 * 1024 * 1024),
  /**
   * Sustained rate of such frames per tenant in the cluster (frames/s, 0 = unlimited; each gateway
   * enforces rate / live gateways); 1008 above.
   */
  SYNC_TENANT_UPDATE_RATE: nonNegativeInt(5000),
  /** Per-tenant token-bucket burst in the cluster (frames; divided like the rate, at least 1). */
  SYNC_TENANT_UPDATE_BURST: positiveInt(50_000),
  /**
   * Open connections allowed per tenant in the cluster (0 = unlimited; counts of other gateways come
   * from their heartbeats); an extra connection is closed with 1013.
   */
  SYNC_MAX_CONNECTIONS_PER_TENANT: nonNegativeInt(10_000),
  /** Re-send a client update to its shard when no ack arrived within this many ms. */
  SYNC_ACK_RETRY_MS: positiveInt(2_000),
  /** Close the client with 1013 when an update stays unacknowledged this long. */
  SYNC_ACK_GIVE_UP_MS: positiveInt(20_000),
  /** On SIGTERM, wait at most this long for in-flight updates to be acknowledged. */
  SYNC_DRAIN_TIMEOUT_MS: positiveInt(10_000),
  /** Interval of the WebSocket-level ping that detects dead connections. */
  SYNC_KEEPALIVE_MS: positiveInt(30_000),
});

/** Parsed real-time settings (see the README's "WebSocket endpoints" section). */
export interface SyncSettings {
  maxFrameBytes: number;
  updateRatePerSecond: number;
  updateBurst: number;
  controlRatePerSecond: number;
  controlBurst: number;
  focusRatePerSecond: number;
  focusBurst: number;
  maxControlBytes: number;
  maxFocusPerMessage: number;
  maxFocusPerConnection: number;
  tenantUpdateRate: number;
  tenantUpdateBurst: number;
  maxBufferedBytes: number;
  maxConnectionsPerTenant: number;
  ackRetryMs: number;
  ackGiveUpMs: number;
  drainTimeoutMs: number;
  keepaliveMs: number;
}

/** The {@link SyncSettings} of parsed `SYNC_*` variables. */
export function syncSettingsOf(e: z.infer<typeof syncEnvSchema>): SyncSettings {
  return {
    maxFrameBytes: e.SYNC_MAX_FRAME_BYTES,
    updateRatePerSecond: e.SYNC_UPDATE_RATE,
    updateBurst: e.SYNC_UPDATE_BURST,
    controlRatePerSecond: e.SYNC_CONTROL_RATE,
    controlBurst: e.SYNC_CONTROL_BURST,
    focusRatePerSecond: e.SYNC_FOCUS_RATE,
    focusBurst: e.SYNC_FOCUS_BURST,
    maxControlBytes: e.SYNC_MAX_CONTROL_BYTES,
    maxFocusPerMessage: e.SYNC_MAX_FOCUS_PER_MESSAGE,
    maxFocusPerConnection: e.SYNC_MAX_FOCUS_PER_CONNECTION,
    tenantUpdateRate: e.SYNC_TENANT_UPDATE_RATE,
    tenantUpdateBurst: e.SYNC_TENANT_UPDATE_BURST,
    maxBufferedBytes: e.SYNC_MAX_BUFFERED_BYTES,
    maxConnectionsPerTenant: e.SYNC_MAX_CONNECTIONS_PER_TENANT,
    ackRetryMs: e.SYNC_ACK_RETRY_MS,
    ackGiveUpMs: e.SYNC_ACK_GIVE_UP_MS,
    drainTimeoutMs: e.SYNC_DRAIN_TIMEOUT_MS,
    keepaliveMs: e.SYNC_KEEPALIVE_MS,
  };
}
