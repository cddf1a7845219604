import {
  applyDecorators,
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiConsumes } from '@nestjs/swagger';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { ApiError } from './api-error';

/** Metadata key of {@link AcceptsBody}. */
const ACCEPTS_BODY = 'diaryx:accepts-body';

/** Body media types of a route that does not say otherwise. */
export const DEFAULT_BODY_TYPES: readonly string[] = ['application/json'];

/**
 * Declares the media types a route accepts as its request body (default: `application/json`);
 * also lists them as the route's `requestBody` content in the OpenAPI document. A request with a
 * body of another `Content-Type` is refused with 415 `unsupported_media_type` by
 * {@link BodyMediaTypeInterceptor} before the handler runs (docs/protocol.md#http-conventions).
 */
export function AcceptsBody(...types: string[]): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(ACCEPTS_BODY, types), ApiConsumes(...types));
}

/**
 * Global interceptor: a request that carries a body (`Content-Length` > 0 or chunked) whose
 * `Content-Type` is not among the route's {@link AcceptsBody} types → 415
 * `unsupported_media_type`. Requests without a body pass (e.g. `POST …/commit`).
 */
@Injectable()
export class BodyMediaTypeInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const req = context.switchToHttp().getRequest<Request>();
      const accepted =
        this.reflector.getAllAndOverride<string[] | undefined>(ACCEPTS_BODY, [
          context.getHandler(),
          context.getClass(),
        ]) ?? DEFAULT_BODY_TYPES;
      const empty = req.headers['content-length'] === '0';
      // req.is: null without a body, false when the body's type is not one of `accepted`.
      if (!empty && req.is(accepted as string[]) === false) {
        throw new ApiError(415, 'unsupported_media_type', `Content-Type must be ${accepted.join(' or ')}`, {
          accepted,
        });
      }
    }
    return next.handle();
  }
}
