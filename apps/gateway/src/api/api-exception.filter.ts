import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
} from '@nestjs/common';
import type { HttpErrorCodeValue } from '@diaryx-sync/protocol';
import type { Request, Response } from 'express';
import { ApiError, type ApiErrorBody } from './api-error';
import { allowedMethods } from './route-methods';

/** Code of an error that did not name one (Nest/Express errors), by status. */
const CODE_BY_STATUS: Record<number, HttpErrorCodeValue> = {
  400: 'invalid_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'unavailable',
};

/** body-parser error types with a more specific code than their status gives. */
const CODE_BY_BODY_PARSER_TYPE: Record<string, HttpErrorCodeValue> = {
  'entity.too.large': 'payload_too_large',
  'encoding.unsupported': 'unsupported_media_type',
  'charset.unsupported': 'unsupported_media_type',
};

/**
 * Renders every HTTP error as `{"error":{"code","message"}}` with a code of the one documented
 * list (`HttpErrorCode`, docs/protocol.md#error-codes): `ApiError`s as built, other Nest/Express
 * HTTP errors (malformed JSON: `invalid_request`, body too large) with a code derived from their type or status, an
 * unknown path as 404 `not_found`, a known path with another method as 405 `method_not_allowed`
 * with `Allow`, anything else as 500 `internal` (logged, details hidden). Registered with
 * `app.useGlobalFilters`, so it applies to every controller (not to WebSocket upgrades).
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const res = http.getResponse<Response>();
    const req = http.getRequest<Request>();
    const { status, body } = this.methodNotAllowed(exception, req, res) ?? this.render(exception);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status).json(body);
  }

  /** Nest's "no route" 404 for a path that exists with other methods → 405 with `Allow`. */
  private methodNotAllowed(
    exception: unknown,
    req: Request,
    res: Response,
  ): { status: number; body: ApiErrorBody } | undefined {
    if (!(exception instanceof NotFoundException) || exception instanceof ApiError) return undefined;
    const allowed = allowedMethods(req);
    if (allowed.length === 0 || allowed.includes(req.method)) return undefined;
    if (!res.headersSent) res.setHeader('Allow', allowed.join(', '));
    return {
      status: HttpStatus.METHOD_NOT_ALLOWED,
      body: {
        error: {
          code: 'method_not_allowed',
          message: `${req.method} is not allowed on this path; allowed: ${allowed.join(', ')}`,
          allow: allowed,
        },
      },
    };
  }

  private render(exception: unknown): { status: number; body: ApiErrorBody } {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      if (isApiErrorBody(response)) return { status, body: response };
      const message =
        typeof response === 'string'
          ? response
          : typeof (response as { message?: unknown }).message === 'string'
            ? (response as { message: string }).message
            : exception.message;
      return { status, body: { error: { code: codeOf(status, exception.cause), message } } };
    }
    const status = statusOfForeignError(exception);
    if (status !== undefined) {
      return {
        status,
        body: { error: { code: codeOf(status, exception), message: (exception as Error).message } },
      };
    }
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return {
      status: HttpStatus.INTERNAL_SERVER_ERROR,
      body: { error: { code: 'internal', message: 'internal server error' } },
    };
  }
}

function codeOf(status: number, cause: unknown): HttpErrorCodeValue {
  const type = typeof cause === 'object' && cause !== null ? (cause as { type?: unknown }).type : undefined;
  if (typeof type === 'string' && CODE_BY_BODY_PARSER_TYPE[type]) return CODE_BY_BODY_PARSER_TYPE[type];
  return CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'invalid_request');
}

function isApiErrorBody(value: unknown): value is ApiErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const error = (value as { error?: unknown }).error;
  return (
    typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
  );
}

/** Errors of Express middleware (body-parser) carry a 4xx `status`/`statusCode`. */
function statusOfForeignError(exception: unknown): number | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const candidate =
    (exception as { status?: unknown; statusCode?: unknown }).status ??
    (exception as { statusCode?: unknown }).statusCode;
  return typeof candidate === 'number' && candidate >= 400 && candidate < 500 ? candidate : undefined;
}
