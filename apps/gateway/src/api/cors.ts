import type { INestApplication } from '@nestjs/common';

/** Headers a browser may send cross-origin (besides the CORS-safelisted ones). */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key'];
/** Response headers a cross-origin script may read. */
const EXPOSED_HEADERS = ['Retry-After', 'Allow', 'Content-Disposition'];
/** How long a browser may cache a preflight answer (s). */
const PREFLIGHT_MAX_AGE_S = 600;

/**
 * CORS for the origins of `CORS_ORIGINS` (docs/protocol.md#http-conventions): a preflight
 * `OPTIONS` from an allowed origin is answered 204 with `Access-Control-Allow-Origin` (the
 * origin), `-Methods`, `-Headers`, `-Max-Age`; simple requests from it get
 * `Access-Control-Allow-Origin` and `Vary: Origin`. Any other origin gets no CORS header (the
 * browser then blocks the call). No list (the default) = no CORS middleware at all. Credentials
 * (cookies) are not allowed: the API authenticates with Bearer tokens.
 */
export function enableCors(app: INestApplication, origins: readonly string[]): void {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  app.enableCors({
    origin: (origin: string | undefined, callback: (err: Error | null, allow: boolean) => void) =>
      callback(null, origin !== undefined && allowed.has(origin)),
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_S,
    optionsSuccessStatus: 204,
    credentials: false,
  });
}
