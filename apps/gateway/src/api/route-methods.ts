import type { Request } from 'express';

/** The parts of an Express 5 router layer read here (`router` package). */
interface RouterLayer {
  match(path: string): unknown;
  route?: { _methods(includeAll?: boolean): string[] };
}

/**
 * The methods the app's routes answer on `req.path` (with `HEAD` for `GET`), sorted; empty when no
 * route matches the path. Read from the Express router, so it covers every controller registered
 * now or later without a list to maintain. Used to answer 405 with `Allow`
 * (docs/protocol.md#http-conventions).
 */
export function allowedMethods(req: Request): string[] {
  const stack = (req.app as unknown as { router?: { stack?: RouterLayer[] } }).router?.stack ?? [];
  const methods = new Set<string>();
  for (const layer of stack) {
    if (!layer.route || !layer.match(req.path)) continue;
    for (const method of layer.route._methods(false)) methods.add(method);
  }
  return [...methods].sort();
}
