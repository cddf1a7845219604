/**
 * Providers of the history module: object storage (S3 via minio), the git store (objects in S3,
 * refs in PostgreSQL) and the `HistoryQueues` producer. Closed on shutdown.
 */
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import type { Pool } from 'pg';
import { ObjectStorage } from '@diaryx-sync/objstore';
import { GitStore } from '@diaryx-sync/git-store';
import { HistoryQueues } from '@diaryx-sync/bus';
import { createRedis, redisTopologyOf, type RedisClient } from '@diaryx-sync/runtime';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { PG_POOL, REDIS } from '../infra/infra.tokens';
import { WorkspaceDocumentsService } from '../api/workspace-documents.service';
import { HISTORY_SCHEMA, prepareGatewaySchema } from '../infra/schema';
import { HISTORY_CONFIG, type HistoryConfig } from './history-config';
import { ImportSlots } from './import-slots';
import { TenantImportLeases } from './tenant-import-leases';

export const historyProviders: Provider[] = [
  { provide: HISTORY_CONFIG, inject: [GATEWAY_CONFIG], useFactory: (c: GatewayConfig): HistoryConfig => c },
  {
    provide: ImportSlots,
    inject: [HISTORY_CONFIG, REDIS, GATEWAY_CONFIG],
    useFactory: (h: HistoryConfig, redis: RedisClient, c: GatewayConfig) =>
      new ImportSlots(
        h.SNAPSHOT_MAX_CONCURRENT_IMPORTS,
        h.SNAPSHOT_MAX_TENANT_IMPORTS,
        new TenantImportLeases(redis, c.REDIS_PREFIX, h.SNAPSHOT_MAX_TENANT_IMPORTS),
      ),
  },
  {
    provide: ObjectStorage,
    inject: [GATEWAY_CONFIG],
    useFactory: (c: GatewayConfig) =>
      new ObjectStorage({
        endpoint: c.S3_ENDPOINT,
        accessKey: c.S3_ACCESS_KEY,
        secretKey: c.S3_SECRET_KEY,
        bucket: c.S3_BUCKET,
        region: c.S3_REGION,
      }),
  },
  {
    provide: GitStore,
    inject: [ObjectStorage, PG_POOL],
    useFactory: (objects: ObjectStorage, pool: Pool) => new GitStore(objects, pool),
  },
  {
    provide: HistoryQueues,
    inject: [GATEWAY_CONFIG],
    useFactory: (c: GatewayConfig) =>
      new HistoryQueues({ connect: () => createRedis(redisTopologyOf(c)), prefix: c.REDIS_PREFIX }),
  },
];

/** Runs (or checks, infra/schema.ts) the history migrations at start-up and closes the queues on shutdown. */
@Injectable()
export class HistoryLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('HistoryLifecycle');

  constructor(
    private readonly git: GitStore,
    @Inject(HistoryQueues) private readonly queues: HistoryQueues,
    private readonly documents: WorkspaceDocumentsService,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await prepareGatewaySchema(this.pool, this.config, HISTORY_SCHEMA);
    // A deleted workspace loses its git history too: a new workspace with the same id starts empty.
    // The refs go at once (PostgreSQL); the objects are content-addressed garbage from then on, so
    // an unreachable S3 only leaves garbage behind and must not fail the deletion.
    this.documents.addDeletionHook(async (tenant, workspace) => {
      await this.git.forgetWorkspace(tenant, workspace);
      await this.git.purgeObjects(tenant, workspace).catch((err: unknown) => {
        this.logger.warn(`git objects of ${tenant}/${workspace} not purged: ${(err as Error).message}`);
      });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queues.close().catch(() => undefined);
  }
}
