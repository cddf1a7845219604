/** Gateway configuration (env vars parsed with zod, exposed to Nest). */
export * from './gateway-config';
export * from './gateway-config.module';
