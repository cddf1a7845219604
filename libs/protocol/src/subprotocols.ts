/**
 * The WebSocket subprotocols of token authentication (docs/protocol.md#authentication): a client
 * offers `diaryx-sync` and `bearer.<jwt>`; the server selects and echoes only `diaryx-sync`.
 * The client builds its offer with `syncSubprotocols` (client/transport.ts).
 */

/** The subprotocol a Diaryx gateway selects and echoes. */
export const SYNC_SUBPROTOCOL = 'diaryx-sync';
/** Prefix of the subprotocol entry carrying the token, `bearer.<jwt>` (never echoed by the server). */
export const TOKEN_SUBPROTOCOL_PREFIX = 'bearer.';
