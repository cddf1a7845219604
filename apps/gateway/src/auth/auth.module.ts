import { Module } from '@nestjs/common';
import { AuthService } from './auth.service';
import { BearerAuthGuard } from './bearer-auth.guard';
import { ClusterAdminGuard } from './cluster-admin.guard';

/** JWT verification and authorization helpers; import it wherever tokens are checked (HTTP, WebSocket). */
@Module({
  providers: [AuthService, BearerAuthGuard, ClusterAdminGuard],
  exports: [AuthService, BearerAuthGuard, ClusterAdminGuard],
})
export class AuthModule {}
