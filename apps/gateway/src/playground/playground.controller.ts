import { Controller, Get, Inject, Param, Res } from '@nestjs/common';
import { ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import type { PlaygroundAssets } from './playground-assets';

/** Injection token of the loaded {@link PlaygroundAssets}. */
export const PLAYGROUND_ASSETS = Symbol('PLAYGROUND_ASSETS');

/**
 * The playground web app (apps/playground/README.md): `GET /play` (the page) and
 * `GET /play/assets/{file}` (its bundled script and styles). Static, no data and no auth: the page
 * signs in with a token kept in the URL fragment, which browsers never send to the server, and
 * then talks to the public HTTP API and `/sync2` like any app.
 */
@ApiTags('playground')
@Controller('play')
export class PlaygroundController {
  constructor(@Inject(PLAYGROUND_ASSETS) private readonly assets: PlaygroundAssets) {}

  @Get()
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'the playground page (404 text when it was not built)' })
  page(@Res() res: Response): void {
    secure(res);
    if (!this.assets.index) {
      res
        .status(404)
        .type('text/plain')
        .send('The playground is not built: run `npm run build` (apps/playground).');
      return;
    }
    res
      .status(200)
      .type('text/html; charset=utf-8')
      .setHeader('Cache-Control', 'no-store')
      .send(this.assets.index);
  }

  @Get('assets/:file')
  @ApiProduces('text/javascript', 'text/css')
  @ApiOkResponse({ description: "one of the page's bundled files" })
  asset(@Param('file') file: string, @Res() res: Response): void {
    secure(res);
    const asset = this.assets.files.get(file);
    if (!asset) {
      res.status(404).type('text/plain').send('not found');
      return;
    }
    res
      .status(200)
      .setHeader('Content-Type', asset.type)
      .setHeader('Cache-Control', 'no-cache')
      .send(asset.body);
  }
}

/**
 * Everything from this origin, nothing from elsewhere; `style-src 'unsafe-inline'` because
 * CodeMirror injects its styles at run time.
 */
const PLAYGROUND_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function secure(res: Response): void {
  res
    .setHeader('Content-Security-Policy', PLAYGROUND_CSP)
    .setHeader('X-Content-Type-Options', 'nosniff')
    .setHeader('Referrer-Policy', 'no-referrer');
}
