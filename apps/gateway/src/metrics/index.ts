/** The gateway's Prometheus registry and `/metrics` endpoint. */
export * from './metrics.module';
export * from './metrics.tokens';
