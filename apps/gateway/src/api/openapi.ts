import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';

/** Where the OpenAPI document is served. */
export const OPENAPI_JSON_PATH = '/api/openapi.json';
/** Where Swagger UI is served (assets from the `swagger-ui-dist` package, no CDN). */
export const OPENAPI_UI_PATH = '/api/docs';

/**
 * Builds the OpenAPI 3.1 document from the controllers' decorators (`@nestjs/swagger`): every
 * route registered in the app, with the schemas of `openapi-decorators.ts`.
 */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setOpenAPIVersion('3.1.0')
    .setTitle('Diaryx Sync gateway')
    .setDescription(
      'HTTP API of the Diaryx Sync gateway. Conventions (errors, pagination, CORS, 405/413/415) are described in docs/protocol.md, "HTTP API".',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'bearer')
    .build();
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controllerKey, methodKey) =>
      `${controllerKey.replace(/Controller$/, '')}_${methodKey}`,
  });
}

/**
 * Serves the document at {@link OPENAPI_JSON_PATH} and Swagger UI at {@link OPENAPI_UI_PATH}. The
 * document is built lazily on the first request, once every module registered its controllers.
 */
export function mountOpenApi(app: INestApplication): void {
  SwaggerModule.setup(OPENAPI_UI_PATH.slice(1), app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1),
    raw: ['json'],
    customSiteTitle: 'Diaryx Sync API',
  });
}
