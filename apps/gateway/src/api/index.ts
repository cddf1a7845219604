/** HTTP API building blocks (also for other controllers under `/api`). */
export * from './api-error';
export * from './api-exception.filter';
export * from './api.module';
export * from './request-validation';
export * from './workspace-access.service';
export * from './workspace-documents.service';
export * from './versions.service';
