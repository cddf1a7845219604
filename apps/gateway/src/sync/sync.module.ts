import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { TenancyModule } from '../tenancy/tenancy.module';
import { SyncHttpController } from './sync-http.controller';
import { SyncService } from './sync.service';

/**
 * Real-time endpoints `/sync2` and `/yjs/:docId` (docs/protocol.md#the-multiplexed-endpoint-sync2 and #the-y-websocket-endpoint-yjsdocid; plain GETs of them are answered
 * by {@link SyncHttpController}). Self-contained: needs only
 * the global config/infra/metrics providers of AppModule plus the auth and tenancy modules.
 */
@Module({
  imports: [AuthModule, TenancyModule],
  controllers: [SyncHttpController],
  providers: [SyncService],
  exports: [SyncService],
})
export class SyncModule {}
