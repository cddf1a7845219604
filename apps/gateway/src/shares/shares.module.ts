import { Module } from '@nestjs/common';
import { ApiModule } from '../api/api.module';
import { SyncModule } from '../sync/sync.module';
import { SharesController, ShareTokensController } from './shares.controller';

/**
 * Share links (docs/protocol.md#share-links): the HTTP routes. The store itself is global
 * ({@link ShareStoreModule}) because token verification consults it.
 */
@Module({
  imports: [ApiModule, SyncModule],
  controllers: [SharesController, ShareTokensController],
})
export class SharesModule {}
