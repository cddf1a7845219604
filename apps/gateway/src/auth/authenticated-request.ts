import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { TokenClaims } from './token-claims';

/** An Express request that passed {@link BearerAuthGuard}: `auth` holds the verified claims. */
export interface AuthenticatedRequest extends Request {
  auth: TokenClaims;
}

/** Parameter decorator giving the verified {@link TokenClaims} of a request guarded by `BearerAuthGuard`. */
export const Claims = createParamDecorator((_data: unknown, ctx: ExecutionContext): TokenClaims => {
  const request = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  return request.auth;
});
