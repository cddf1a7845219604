import { Module } from '@nestjs/common';
import { AttachmentStore, ObjectStorage } from '@diaryx-sync/objstore';
import { ApiModule } from '../api/api.module';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { AttachmentsController } from './attachments.controller';
import { WorkspaceAttachmentsService } from './workspace-attachments.service';

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
  ],
})
export class AttachmentsModule {}
