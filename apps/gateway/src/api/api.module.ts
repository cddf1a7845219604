import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { SyncModule } from '../sync/sync.module';
import { TenancyModule } from '../tenancy/tenancy.module';
import { FileVersionsController } from './file-versions.controller';
import { DocUpdatesController, FilesController } from './files.controller';
import { TenantsController } from './tenants.controller';
import { TokensController } from './tokens.controller';
import { VersionsController } from './versions.controller';
import { VersionsService } from './versions.service';
import { WorkspaceAccessService } from './workspace-access.service';
import { WorkspaceDeletionService } from './workspace-deletion.service';
import { WorkspaceDocumentsService } from './workspace-documents.service';
import { WorkspaceFilesService } from './workspace-files.service';
import { WorkspacesController } from './workspaces.controller';

/**
 * The HTTP API of docs/protocol.md#http-api owned here: tenants, tokens, workspaces, versions,
 * files (server-side document access). Exports
 * {@link WorkspaceAccessService} for other `/api/workspaces/{id}/…` controllers (history, git).
 */
@Module({
  imports: [AuthModule, TenancyModule, SyncModule],
  controllers: [
    TenantsController,
    TokensController,
    WorkspacesController,
    VersionsController,
    FileVersionsController,
    FilesController,
    DocUpdatesController,
  ],
  providers: [
    WorkspaceAccessService,
    WorkspaceDocumentsService,
    WorkspaceDeletionService,
    WorkspaceFilesService,
    VersionsService,
  ],
  exports: [WorkspaceAccessService, WorkspaceDocumentsService, AuthModule, TenancyModule],
})
export class ApiModule {}
