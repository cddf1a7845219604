import { Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { AttachmentStore, ObjectStorage } from '@diaryx-sync/objstore';
import { ApiModule } from '../api/api.module';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { TenantStore } from '../tenancy';
import { AttachmentsController } from './attachments.controller';
import { WorkspaceAttachmentsService } from './workspace-attachments.service';

/**
 * A deleted tenant's attachment objects go with it: the attachment GC sweeps only live tenants,
 * and the bytes are the tenant's (shared by its workspaces, docs/protocol.md#attachments).
 */
@Injectable()
export class TenantAttachmentsPurge implements OnModuleInit {
  constructor(
    private readonly tenants: TenantStore,
    private readonly store: AttachmentStore,
  ) {}

  private readonly logger = new Logger('TenantAttachmentsPurge');

  onModuleInit(): void {
    // As for git objects: an unreachable S3 leaves garbage behind and must not fail the deletion.
    this.tenants.addDeletionHook(async (tenant) => {
      try {
        for (const { hash } of await this.store.list(tenant)) await this.store.delete(tenant, hash);
      } catch (err) {
        this.logger.warn(`attachments of tenant ${tenant} not purged: ${(err as Error).message}`);
      }
    });
  }
}

/**
 * Attachment bytes of docs/protocol.md#attachments: `/api/workspaces/{id}/attachments[/{sha256}]`
 * over the tenant's content-addressed store in S3.
 */
@Module({
  imports: [ApiModule],
  controllers: [AttachmentsController],
  providers: [
    {
      provide: AttachmentStore,
      inject: [GATEWAY_CONFIG],
      useFactory: (c: GatewayConfig) =>
        new AttachmentStore(
          new ObjectStorage({
            endpoint: c.S3_ENDPOINT,
            accessKey: c.S3_ACCESS_KEY,
            secretKey: c.S3_SECRET_KEY,
            bucket: c.S3_BUCKET,
            region: c.S3_REGION,
          }),
        ),
    },
    WorkspaceAttachmentsService,
    TenantAttachmentsPurge,
  ],
})
export class AttachmentsModule {}
