import { z } from 'zod';
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

// Control characters (C0, DEL, C1), lone surrogates and bidi formatting characters: PostgreSQL
// refuses NUL, and the others corrupt logs or spoof how a label is displayed
// (docs/protocol.md#http-api).
const UNSAFE_TEXT = /[\p{Cc}\p{Cs}\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u;

/** True when `text` holds a control character, a lone surrogate or a bidi formatting character. */
export function hasUnsafeText(text: string): boolean {
  return UNSAFE_TEXT.test(text);
}

const UNSAFE_TEXT_MESSAGE =
  'must not contain control characters, lone surrogates or bidi formatting characters';

/**
 * zod schema of a user-supplied string (names, token subjects): 1..`max` characters without
 * unsafe characters ({@link hasUnsafeText}); `trim` first for display labels. A violation is a
 * 400 `invalid_request` like every other schema error.
 */
export function textSchema(max: number, options: { trim: boolean }) {
  const base = options.trim ? z.string().trim() : z.string();
  return base
    .min(1)
    .max(max)
    .refine((s) => !hasUnsafeText(s), UNSAFE_TEXT_MESSAGE);
}
