import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { extractBearerToken } from '../auth/bearer-token';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/** Name of the `/ops` session cookie. */
export const OPS_COOKIE = 'dx_ops';
/** Lifetime of the session cookie (s). */
export const OPS_COOKIE_MAX_AGE_S = 12 * 3600;

/**
 * Authentication of the `/ops` page with the cluster `ADMIN_TOKEN`: either
 * `Authorization: Bearer <ADMIN_TOKEN>`, or the session cookie set by the login form. The cookie
 * never holds the token itself but an HMAC derived from it, so it stops working as soon as
 * `ADMIN_TOKEN` is rotated. All comparisons are constant-time.
 */
@Injectable()
export class OpsAuth {
  private readonly tokenDigest: Buffer;
  private readonly session: string;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.tokenDigest = sha256(config.ADMIN_TOKEN);
    this.session = createHmac('sha256', config.ADMIN_TOKEN)
      .update('diaryx-ops-session-v1')
      .digest('base64url');
  }

  /** True when `token` is the cluster admin token. */
  isAdminToken(token: string | undefined): boolean {
    return token !== undefined && timingSafeEqual(sha256(token), this.tokenDigest);
  }

  /** True when the request carries the admin token (Bearer) or a valid session cookie. */
  isAuthorized(req: Request): boolean {
    if (this.isAdminToken(extractBearerToken(req.headers.authorization))) return true;
    const cookie = readCookie(req.headers.cookie, OPS_COOKIE);
    return cookie !== undefined && timingSafeEqual(sha256(cookie), sha256(this.session));
  }

  /** `Set-Cookie` value that logs the browser in (HttpOnly, SameSite=Strict, Path=/ops). */
  loginCookie(secure: boolean): string {
    return `${OPS_COOKIE}=${this.session}; Path=/ops; HttpOnly; SameSite=Strict; Max-Age=${OPS_COOKIE_MAX_AGE_S}${secure ? '; Secure' : ''}`;
  }

  /** `Set-Cookie` value that logs the browser out. */
  logoutCookie(): string {
    return `${OPS_COOKIE}=; Path=/ops; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** The value of cookie `name` in a `Cookie` header, if present. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}
