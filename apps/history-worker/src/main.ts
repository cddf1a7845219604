/**
 * History-worker process: BullMQ workers for compaction, validation, git commits, rebuild and
 * restore. Config from the environment (libs/runtime); exits non-zero with a hint when a
 * dependency is down; drains on SIGTERM/SIGINT.
 */
import { ConfigError, createLogger, DependencyUnavailableError } from '@diaryx-sync/runtime';
import { loadWorkerConfig } from './config';
import { startWorkerApp } from './worker-app';

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const log = createLogger('history-worker', config.LOG_LEVEL);
  const app = await startWorkerApp(config, { logger: log });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof DependencyUnavailableError) {
    process.stderr.write(`history-worker: ${err.message}\n`);
  } else {
    process.stderr.write(`history-worker: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
});
