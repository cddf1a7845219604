import { Module } from '@nestjs/common';
import { ApiModule } from '../api/api.module';
import { OpsAuth } from '../ops/ops-auth';
import { GitHttpController } from './git-http.controller';
import { HistoryController } from './history.controller';
import { historyProviders, HistoryLifecycle } from './history-infra';
import { QueuesBoard } from './queues-board';
import { SnapshotController } from './snapshot.controller';
import { WorkspaceHistoryService } from './workspace-history.service';
import { WebhooksController } from './webhooks.controller';
import { WebhookStore } from '@diaryx-sync/git-store';
import type { Pool } from 'pg';
import { PG_POOL } from '../infra/infra.tokens';

/**
 * History features of the gateway (docs/protocol.md#http-api): `/api/workspaces/{id}/history|commit|restore|snapshot`,
 * read-only git dumb-HTTP under `/git/{id}.git/`, and Bull Board at `/ops/queues`. Changes run as
 * history-worker jobs (`HistoryQueues`); reads go straight to S3/PostgreSQL. Change webhooks
 * (`/api/workspaces/{id}/webhooks`, docs/protocol.md#webhooks) are stored in its PostgreSQL schema
 * and delivered by the history worker.
 */
@Module({
  imports: [ApiModule],
  controllers: [HistoryController, SnapshotController, GitHttpController, WebhooksController],
  providers: [
    ...historyProviders,
    HistoryLifecycle,
    WorkspaceHistoryService,
    QueuesBoard,
    OpsAuth,
    { provide: WebhookStore, inject: [PG_POOL], useFactory: (pool: Pool) => new WebhookStore(pool) },
  ],
})
export class HistoryModule {}
