import type { z } from 'zod';
import { ApiError } from './api-error';

/**
 * Parses a request body (or query) with a zod schema.
 * @throws ApiError 400 `invalid_request` with the zod issues (`issues: [{path, message}]`).
 */
export function parseRequest<S extends z.ZodTypeAny>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = issues[0];
  const message = first ? `${first.path || 'body'}: ${first.message}` : 'invalid request';
  throw ApiError.badRequest(message, 'invalid_request', { issues });
}
