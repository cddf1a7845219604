import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
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
/** Verified tokens remembered by {@link AuthService.verify}: at most this many (oldest dropped first). */
const VERIFIED_TOKENS_MAX = 10_000;

/**
 * Signs and verifies the cluster's JWTs (HS256 with `JWT_SECRET`, docs/protocol.md#tokens) and answers
 * authorization questions about verified claims. Tenant isolation is the caller's job: every
 * workspace lookup must use `claims.tid`.
 */
@Injectable()
export class AuthService {
  private readonly secret: KeyObject;
  /** Accepted for verification only (key rotation); null when not configured. */
  private readonly previousSecret: KeyObject | null;
  /**
   * Tokens whose signature and claims were verified, with their claims (frozen, shared by every
   * connection of the token): a reconnect storm with the same tokens skips the HMAC and the
   * claims parsing. Expiry, revocation and share status are checked on every call.
   */
  private readonly verifiedTokens = new Map<string, TokenClaims>();

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    /** Without it (unit tests), every share-link token is refused. */
    @Optional() @Inject(SHARE_STATUS) private readonly shares: ShareStatus | null = null,
    /** Without it (unit tests), no token counts as revoked. */
    @Optional() @Inject(TokenRevocations) private readonly revocations: TokenRevocations | null = null,
  ) {
    // KeyObjects, created once: jose would import a raw secret again on every call
    this.secret = createSecretKey(Buffer.from(config.JWT_SECRET, 'utf8'));
    this.previousSecret = config.JWT_PREVIOUS_SECRET
      ? createSecretKey(Buffer.from(config.JWT_PREVIOUS_SECRET, 'utf8'))
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
    const claims = this.verifiedTokens.get(token) ?? (await this.verifySignedClaims(token));
    // the same test as jose's (`exp` at or before now, in whole seconds), also for remembered tokens
    if (claims.exp <= Math.floor(Date.now() / 1000)) {
      this.verifiedTokens.delete(token);
      throw new InvalidTokenError('expired', 'token expired');
    }
    if (claims.jti !== undefined && this.revocations?.isRevoked(claims.jti)) {
      throw new InvalidTokenError('revoked', 'token revoked');
    }
    const share = claims.share;
    if (share !== undefined && !(await this.shares?.isActive(claims.tid, share))) {
      throw new InvalidTokenError('invalid', 'share link revoked or expired');
    }
    return claims;
  }

  /** Signature, algorithm, expiry and claim shapes; remembers the claims of a valid token. */
  private async verifySignedClaims(token: string): Promise<TokenClaims> {
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
    const claims = parsed.data;
    Object.freeze(claims.ws);
    Object.freeze(claims);
    if (this.verifiedTokens.size >= VERIFIED_TOKENS_MAX) {
      const oldest = this.verifiedTokens.keys().next();
      if (!oldest.done) this.verifiedTokens.delete(oldest.value);
    }
    this.verifiedTokens.set(token, claims);
    return claims;
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
