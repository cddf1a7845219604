/** Shared connections and logging of the gateway process. */
export * from './infra.module';
export * from './infra.tokens';
export * from './pino-nest-logger';
