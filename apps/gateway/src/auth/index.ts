/** Token verification and authorization for HTTP and WebSocket entry points. */
export * from './auth.errors';
export * from './auth.module';
export * from './auth.service';
export * from './authenticated-request';
export * from './bearer-auth.guard';
export * from './bearer-token';
export * from './cluster-admin.guard';
export * from './token-claims';
