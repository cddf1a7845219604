import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Role } from '@diaryx-sync/protocol';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { InvalidTokenError } from './auth.errors';
import { TokenRevocations } from './token-revocations';
import { SHARE_STATUS, type ShareStatus } from './share-status';
import {
  ALL_WORKSPACES,
  type TokenClaims,
  type WorkspaceAccessLevel,
  tokenClaimsSchema,
} from './token-claims';

/** Claims to put in a new token; `exp` is computed from the lifetime. */
export interface TokenRequest {
  sub: string;
  tid: string;
  ws: string[];
  role: Role;
  /** Guest token of a share link: the share id (docs/protocol.md#share-links). */
  share?: string;
  /** Name of the device the token is for (docs/protocol.md#who-changed-what). */
  device_name?: string;
}

/** A freshly signed token, its id (`jti`) and its expiry. */
export interface IssuedToken {
  token: string;
  jti: string;
  expiresAt: Date;
}

const ALGORITHM = 'HS256';

/**
 * Signs and verifies the cluster's JWTs (HS256 with `JWT_SECRET`, docs/protocol.md#tokens) and answers
 * authorization questions about verified claims. Tenant isolation is the caller's job: every
 * workspace lookup must use `claims.tid`.
 */
@Injectable()
export class AuthService {
  private readonly secret: Uint8Array;
  /** Accepted for verification only (key rotation); null when not configured. */
  private readonly previousSecret: Uint8Array | null;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    /** Without it (unit tests), every share-link token is refused. */
    @Optional() @Inject(SHARE_STATUS) private readonly shares: ShareStatus | null = null,
    /** Without it (unit tests), no token counts as revoked. */
    @Optional() @Inject(TokenRevocations) private readonly revocations: TokenRevocations | null = null,
  ) {
    this.secret = new TextEncoder().encode(config.JWT_SECRET);
    this.previousSecret = config.JWT_PREVIOUS_SECRET
      ? new TextEncoder().encode(config.JWT_PREVIOUS_SECRET)
      : null;
  }

  /**
   * Verifies signature, algorithm, expiry and claim shapes.
   * A share-link token (`share` claim) is valid only while its share is active.
   * @throws InvalidTokenError with reason `expired` past `exp`, `revoked` when its `jti` was
   *   revoked, `invalid` for anything else.
   */
  async verify(token: string): Promise<TokenClaims> {
    if (typeof token !== 'string' || token.length === 0) {
      throw new InvalidTokenError('invalid', 'missing token');
    }
    let payload: unknown;
    const options = { algorithms: [ALGORITHM], requiredClaims: ['exp'] };
    try {
      try {
        ({ payload } = await jwtVerify(token, this.secret, options));
      } catch (err) {
        // During a rotation, tokens signed with the previous secret stay valid until they expire.
        if (!(err instanceof joseErrors.JWSSignatureVerificationFailed) || !this.previousSecret) throw err;
        ({ payload } = await jwtVerify(token, this.previousSecret, options));
      }
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new InvalidTokenError('expired', 'token expired');
      throw new InvalidTokenError('invalid', `invalid token: ${(err as Error).message}`);
    }
    const parsed = tokenClaimsSchema.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InvalidTokenError(
        'invalid',
        `invalid token claims: ${issue?.path.join('.')} ${issue?.message}`,
      );
    }
    if (parsed.data.jti !== undefined && this.revocations?.isRevoked(parsed.data.jti)) {
      throw new InvalidTokenError('revoked', 'token revoked');
    }
    const share = parsed.data.share;
    if (share !== undefined && !(await this.shares?.isActive(parsed.data.tid, share))) {
      throw new InvalidTokenError('invalid', 'share link revoked or expired');
    }
    return parsed.data;
  }

  /** Signs a token valid for `ttlSeconds` from now. */
  async issue(request: TokenRequest, ttlSeconds: number): Promise<IssuedToken> {
    const expSeconds = Math.floor(Date.now() / 1000) + Math.max(1, Math.floor(ttlSeconds));
    const jti = randomUUID();
    const claims = {
      tid: request.tid,
      ws: request.ws,
      role: request.role,
      ...(request.share === undefined ? {} : { share: request.share }),
      ...(request.device_name === undefined ? {} : { device_name: request.device_name }),
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(request.sub)
      .setIssuedAt()
      .setJti(jti)
      .setExpirationTime(expSeconds)
      .sign(this.secret);
    return { token, jti, expiresAt: new Date(expSeconds * 1000) };
  }

  /** A share link was revoked (on any gateway): its tokens are checked afresh from now on. */
  shareRevoked(tenant: string, shareId: string): void {
    this.shares?.forget(tenant, shareId);
  }

  /** True when the token's `ws` claim covers `workspaceId` (`"*"` covers every workspace of its tenant). */
  canAccessWorkspace(claims: TokenClaims, workspaceId: string): boolean {
    return claims.ws.includes(ALL_WORKSPACES) || claims.ws.includes(workspaceId);
  }

  /** True when the role may change documents (editor, admin). */
  canWrite(claims: TokenClaims): boolean {
    return claims.role === 'editor' || claims.role === 'admin';
  }

  /** True for the tenant administrator role. */
  isAdmin(claims: TokenClaims): boolean {
    return claims.role === 'admin';
  }

  /** True when the role grants `level` (read: any role; write: editor, admin; admin: admin). */
  hasLevel(claims: TokenClaims, level: WorkspaceAccessLevel): boolean {
    if (level === 'read') return true;
    if (level === 'write') return this.canWrite(claims);
    return this.isAdmin(claims);
  }
}
