/** Tenants and workspaces (PostgreSQL). */
export * from './tenancy.errors';
export * from './tenancy.migrations';
export * from './tenancy.module';
export * from './tenant.store';
export * from './workspace.store';
