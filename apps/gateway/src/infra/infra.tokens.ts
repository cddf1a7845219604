/** Injection token of the shared `pg` Pool (tenancy store, version history). */
export const PG_POOL = Symbol('PG_POOL');
/** Injection token of the shared ioredis command connection (never put it in subscriber mode). */
export const REDIS = Symbol('REDIS');
/** Injection token of the root pino `Logger` of the gateway process. */
export const ROOT_LOGGER = Symbol('ROOT_LOGGER');
/** Injection token of this gateway instance's id (string, unique per process; heartbeats, metrics). */
export const GATEWAY_INSTANCE_ID = Symbol('GATEWAY_INSTANCE_ID');
