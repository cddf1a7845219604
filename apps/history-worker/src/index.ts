/**
 * @diaryx-sync/history-worker as a library (tests and launchers that run a worker in-process);
 * the process entry point is `main.ts`.
 */
export { loadWorkerConfig, workerConfigSchema, type WorkerConfig } from './config';
export { startWorkerApp, type WorkerApp, type WorkerAppOptions } from './worker-app';
export type { ApplyUpdate } from './jobs/job-context';
