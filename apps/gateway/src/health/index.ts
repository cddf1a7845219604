/** `/healthz` and `/readyz`. */
export * from './health.module';
export * from './readiness.service';
