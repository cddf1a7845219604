import { Module } from '@nestjs/common';
import { TenancyModule } from '../tenancy/tenancy.module';
import { AuthService } from './auth.service';
import { BearerAuthGuard } from './bearer-auth.guard';
import { ClusterAdminGuard } from './cluster-admin.guard';
import { TokenRevocations } from './token-revocations';

/** JWT verification and authorization helpers; import it wherever tokens are checked (HTTP, WebSocket). */
@Module({
  imports: [TenancyModule],
  providers: [AuthService, BearerAuthGuard, ClusterAdminGuard, TokenRevocations],
  exports: [AuthService, BearerAuthGuard, ClusterAdminGuard, TokenRevocations],
})
export class AuthModule {}
