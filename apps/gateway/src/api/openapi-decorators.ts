import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiResponse, type SchemaObject } from '@nestjs/swagger';
import { HTTP_ERROR_CODES } from '@diaryx-sync/protocol';
import type { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';

/**
 * OpenAPI annotations built from the zod schemas the routes validate with, so the document and
 * the validation cannot drift (docs/protocol.md#http-conventions). Use them on every route:
 * {@link JsonBody} for a JSON request body, {@link JsonResponse} for a JSON answer,
 * {@link ErrorResponses} for the error statuses a route can answer.
 */

/** JSON Schema (2020-12 flavoured, as OpenAPI 3.1 wants) of a zod schema. */
export function schemaOf(schema: z.ZodTypeAny): SchemaObject {
  const json = zodToJsonSchema(schema, { target: 'jsonSchema2019-09', $refStrategy: 'none' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return json as SchemaObject;
}

/** The route's JSON request body is `schema`. */
export function JsonBody(schema: z.ZodTypeAny, description?: string): MethodDecorator {
  return ApiBody({ schema: schemaOf(schema), description });
}

/** The route answers `status` with a JSON body matching `schema` (or no body when omitted). */
export function JsonResponse(
  status: number,
  description: string,
  schema?: z.ZodTypeAny,
): MethodDecorator & ClassDecorator {
  return ApiResponse(schema ? { status, description, schema: schemaOf(schema) } : { status, description });
}

/** JSON Schema of every error body: `{"error":{"code","message",...details}}`. */
export const ERROR_BODY_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: [...HTTP_ERROR_CODES] },
        message: { type: 'string' },
      },
      additionalProperties: true,
    },
  },
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'invalid input (`invalid_request` with `issues`, or a more specific code)',
  401: 'missing, invalid, expired or revoked token',
  403: 'the role may not do this',
  404: 'absent or not visible to this token',
  405: 'the path exists with other methods (`Allow`)',
  409: 'conflict (see the route)',
  413: 'body over its limit',
  415: 'the body has a Content-Type the route does not accept',
  429: 'too many requests (`Retry-After`)',
  503: 'a dependency did not answer in time',
};

/** The route may answer these error statuses, each with the common error body. */
export function ErrorResponses(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({
        status,
        description: ERROR_DESCRIPTIONS[status] ?? 'error',
        schema: ERROR_BODY_SCHEMA,
      }),
    ),
  );
}
