import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';

/**
 * The built playground (`apps/playground/dist`, made by `npm run build`): the files it holds,
 * read once at start. Only these names are served; nothing else on disk is reachable.
 */
export interface PlaygroundAssets {
  /** `index.html`, or null when the playground was not built. */
  readonly index: Buffer | null;
  /** File name → contents and content type, e.g. `app.js`. */
  readonly files: ReadonlyMap<string, { readonly body: Buffer; readonly type: string }>;
}

/** Where `npm run build` puts the playground, relative to this compiled module. */
export const PLAYGROUND_DIST = resolve(__dirname, '../../../playground/dist');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Reads the built playground from `dir` (default {@link PLAYGROUND_DIST}). */
export function loadPlaygroundAssets(dir: string = PLAYGROUND_DIST): PlaygroundAssets {
  const indexPath = join(dir, 'index.html');
  if (!existsSync(indexPath)) return { index: null, files: new Map() };
  const files = new Map<string, { body: Buffer; type: string }>();
  const assetsDir = join(dir, 'assets');
  if (existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir)) {
      const type = TYPES[extname(name)];
      if (type) files.set(name, { body: readFileSync(join(assetsDir, name)), type });
    }
  }
  return { index: readFileSync(indexPath), files };
}
