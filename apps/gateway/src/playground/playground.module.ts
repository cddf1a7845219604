import { Module } from '@nestjs/common';
import { loadPlaygroundAssets } from './playground-assets';
import { PLAYGROUND_ASSETS, PlaygroundController } from './playground.controller';

/** Serves the built playground app at `/play` (read from disk once, at start). */
@Module({
  controllers: [PlaygroundController],
  providers: [{ provide: PLAYGROUND_ASSETS, useFactory: () => loadPlaygroundAssets() }],
})
export class PlaygroundModule {}
