import { applyDecorators } from '@nestjs/common';
import { ApiQuery } from '@nestjs/swagger';
import { z } from 'zod';
import { ApiError } from './api-error';

/**
 * Cursor pagination of every list endpoint (docs/protocol.md#http-conventions): `?limit=n`
 * (1..max, default per list) and `?cursor=<next_cursor of the previous page>`; the answer carries
 * `next_cursor` (null on the last page). Lists are in a stable order of a unique key; the cursor
 * is that key of the last item returned, opaque to clients (base64url JSON). A cursor that does
 * not decode to the list's key shape is 400 `invalid_cursor`; a bad `limit` is 400
 * `invalid_request`.
 */

/** One component of a cursor key. */
export type CursorPart = string | number;

/** A validated page request: at most `limit` items after `after` (absent on the first page). */
export interface PageRequest<K extends CursorPart[]> {
  limit: number;
  after: K | undefined;
}

/** Limits of one list. */
export interface PageLimits {
  defaultLimit: number;
  maxLimit: number;
}

/** The default limits of a list (100 per page, at most 1000). */
export const DEFAULT_PAGE_LIMITS: PageLimits = { defaultLimit: 100, maxLimit: 1000 };

/** Encodes a cursor key (the sort key of the last item of a page). */
export function encodeCursor(key: readonly CursorPart[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Parses `limit` and `cursor` of a list request; `keySchema` is the zod schema of the list's key
 * (e.g. `z.tuple([z.string()])`).
 * @throws ApiError 400 `invalid_request` (limit), 400 `invalid_cursor` (cursor).
 */
export function parsePage<S extends z.ZodType<CursorPart[]>>(
  query: { limit?: unknown; cursor?: unknown },
  keySchema: S,
  limits: PageLimits = DEFAULT_PAGE_LIMITS,
): PageRequest<z.infer<S>> {
  let limit = limits.defaultLimit;
  if (query.limit !== undefined) {
    const raw = query.limit;
    if (
      typeof raw !== 'string' ||
      !/^\d{1,9}$/.test(raw) ||
      Number(raw) < 1 ||
      Number(raw) > limits.maxLimit
    ) {
      throw ApiError.badRequest(
        `limit must be an integer between 1 and ${limits.maxLimit}`,
        'invalid_request',
      );
    }
    limit = Number(raw);
  }
  if (query.cursor === undefined || query.cursor === '') return { limit, after: undefined };
  const invalid = () => ApiError.badRequest('cursor is not a cursor of this list', 'invalid_cursor');
  if (
    typeof query.cursor !== 'string' ||
    query.cursor.length > 2048 ||
    !/^[A-Za-z0-9_-]+$/.test(query.cursor)
  )
    throw invalid();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(query.cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const parsed = keySchema.safeParse(decoded);
  if (!parsed.success) throw invalid();
  return { limit, after: parsed.data };
}

/**
 * Cuts `fetched` (up to `limit + 1` items in list order, fetched after the cursor) to one page and
 * computes `next_cursor` from the last item kept.
 */
export function pageOf<T>(
  fetched: readonly T[],
  limit: number,
  keyOf: (item: T) => CursorPart[],
): { items: T[]; next_cursor: string | null } {
  const items = fetched.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    next_cursor: fetched.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}

/** zod schema of a page answer: `{[key]: item[], next_cursor}`. */
export function pageSchema<K extends string>(key: K, item: z.ZodTypeAny) {
  return z.object({
    [key]: z.array(item),
    next_cursor: z
      .string()
      .nullable()
      .describe('pass as `cursor` to get the next page; null on the last page'),
  } as Record<K | 'next_cursor', z.ZodTypeAny>);
}

/** OpenAPI: the route takes `limit` and `cursor`. */
export function Paginated(limits: PageLimits = DEFAULT_PAGE_LIMITS): MethodDecorator {
  return applyDecorators(
    ApiQuery({
      name: 'limit',
      required: false,
      schema: { type: 'integer', minimum: 1, maximum: limits.maxLimit, default: limits.defaultLimit },
    }),
    ApiQuery({
      name: 'cursor',
      required: false,
      schema: { type: 'string' },
      description: '`next_cursor` of the previous page',
    }),
  );
}
