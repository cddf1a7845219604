import { HttpException, HttpStatus } from '@nestjs/common';
import type { HttpErrorCodeValue } from '@diaryx-sync/protocol';

/** Body of every error answer of the HTTP API (docs/protocol.md#http-api). */
export interface ApiErrorBody {
  error: { code: HttpErrorCodeValue; message: string; [detail: string]: unknown };
}

/**
 * An HTTP API error with a stable machine-readable `code` from the one documented list
 * (`HttpErrorCode` of `@diaryx-sync/protocol`, docs/protocol.md#error-codes). Rendered as
 * `{"error":{"code","message",...details}}` with the given status.
 */
export class ApiError extends HttpException {
  constructor(
    status: number,
    readonly code: HttpErrorCodeValue,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super({ error: { ...details, code, message } } satisfies ApiErrorBody, status);
  }

  /** 400 with a specific code (`invalid_request`, `invalid_doc`, ...). */
  static badRequest(message: string, code: HttpErrorCodeValue, details?: Record<string, unknown>): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, code, message, details);
  }

  /** 401: missing, invalid or expired credentials. */
  static unauthorized(
    message = 'missing or invalid token',
    code: HttpErrorCodeValue = 'unauthorized',
  ): ApiError {
    return new ApiError(HttpStatus.UNAUTHORIZED, code, message);
  }

  /** 403: authenticated, but the role does not allow this. */
  static forbidden(message = 'insufficient role'): ApiError {
    return new ApiError(HttpStatus.FORBIDDEN, 'forbidden', message);
  }

  /** 404: absent, or not visible to this caller (other tenant, outside the token's workspaces). */
  static notFound(message = 'not found'): ApiError {
    return new ApiError(HttpStatus.NOT_FOUND, 'not_found', message);
  }

  /** 409 with a specific code (`workspace_exists`, `nothing_to_commit`, ...). */
  static conflict(message: string, code: HttpErrorCodeValue, details?: Record<string, unknown>): ApiError {
    return new ApiError(HttpStatus.CONFLICT, code, message, details);
  }
}
