import { Global, Module } from '@nestjs/common';
import { SHARE_STATUS } from '../auth/share-status';
import { ShareStore } from './share.store';

/**
 * Global provider of the {@link ShareStore}, also as the `SHARE_STATUS` that `AuthService` checks
 * share-link tokens against (global so the auth module needs no import of the shares feature).
 */
@Global()
@Module({
  providers: [ShareStore, { provide: SHARE_STATUS, useExisting: ShareStore }],
  exports: [ShareStore, SHARE_STATUS],
})
export class ShareStoreModule {}
