import { Module } from '@nestjs/common';
import { LoginThrottle } from './login-throttle';
import { OpsAuth } from './ops-auth';
import { OpsController } from './ops.controller';
import { OpsStateService } from './ops-state.service';

/**
 * The `/ops` live cluster page and its JSON (`GET /ops/api/state`), built from the heartbeats in
 * Redis and the history worker's tables. Uses the global config, Redis and PostgreSQL providers.
 */
@Module({
  controllers: [OpsController],
  providers: [OpsAuth, OpsStateService, { provide: LoginThrottle, useFactory: () => new LoginThrottle() }],
})
export class OpsModule {}
