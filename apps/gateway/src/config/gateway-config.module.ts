import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { GATEWAY_CONFIG, type GatewayConfig } from './gateway-config';

/**
 * Global configuration: provides the typed {@link GatewayConfig} under {@link GATEWAY_CONFIG}
 * and `@nestjs/config`'s `ConfigService` over the same values (`ConfigService<GatewayConfig, true>`).
 * process.env is neither read again nor written: the config object passed in is the only source.
 */
@Module({})
export class GatewayConfigModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayConfigModule,
      global: true,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          validatePredefined: false,
          skipProcessEnv: true,
          load: [() => ({ ...config })],
        }),
      ],
      providers: [{ provide: GATEWAY_CONFIG, useValue: config }],
      exports: [GATEWAY_CONFIG],
    };
  }
}
