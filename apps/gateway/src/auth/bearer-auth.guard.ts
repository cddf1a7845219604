import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { ApiError } from '../api/api-error';
import { InvalidTokenError } from './auth.errors';
import { AuthService } from './auth.service';
import type { AuthenticatedRequest } from './authenticated-request';
import { extractBearerToken } from './bearer-token';

/**
 * HTTP guard: requires `Authorization: Bearer <tenant JWT>`, verifies it and stores the claims
 * on `request.auth` (read them with the `@Claims()` decorator). 401 `unauthorized` when missing
 * or invalid, 401 `token_expired` when expired, 401 `token_revoked` when revoked.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(private readonly auth: AuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = extractBearerToken(request.headers.authorization);
    if (!token) throw ApiError.unauthorized('missing bearer token');
    try {
      request.auth = await this.auth.verify(token);
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        if (err.reason === 'expired') throw ApiError.unauthorized('token expired', 'token_expired');
        if (err.reason === 'revoked') throw ApiError.unauthorized('token revoked', 'token_revoked');
        throw ApiError.unauthorized('invalid token');
      }
      throw err;
    }
    return true;
  }
}
