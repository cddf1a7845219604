/**
 * Access tokens of a client (docs/protocol.md#tokens): a {@link TokenProvider} is asked for a
 * token before each connection and again shortly before the token's `exp`, which is read from the
 * JWT without verifying it (the server verifies). One mechanism for `SyncClient` and the browser
 * SDK's `DiaryxClient`.
 */
import type { Role } from '../roles';

/** Returns a fresh JWT; called before every connection and again before the current one expires. */
export type TokenProvider = () => Promise<string>;

/** The claims a client uses. */
export interface TokenClaimsView {
  /** Expiry in milliseconds since the epoch, or null when absent or unreadable. */
  readonly expiresAt: number | null;
  /** `role` claim, or null when absent or unknown. */
  readonly role: Role | null;
}

/** Decodes the payload of `jwt` (base64url JSON); unreadable tokens give nulls. */
export function readTokenClaims(jwt: string): TokenClaimsView {
  const part = jwt.split('.')[1];
  if (part === undefined) return { expiresAt: null, role: null };
  try {
    const base64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes)) as { exp?: unknown; role?: unknown };
    const expiresAt =
      typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp * 1000 : null;
    const role =
      claims.role === 'editor' || claims.role === 'viewer' || claims.role === 'admin' ? claims.role : null;
    return { expiresAt, role };
  } catch {
    return { expiresAt: null, role: null };
  }
}

/**
 * When to refresh a token expiring at `expiresAt`: `before` ms ahead, but never in the first half
 * of a short token's remaining life, and not sooner than 1 s from `now`.
 */
export function refreshDelay(expiresAt: number, now: number, before: number): number {
  const remaining = expiresAt - now;
  const lead = Math.min(before, remaining / 2);
  return Math.max(1000, remaining - lead);
}

/** What {@link scheduleTokenRefresh} reports. */
export interface TokenRefreshHandlers {
  /** The provider returned the token that replaces the current one. */
  fresh(token: string): void;
  /** The provider failed: `retry` asks again (after {@link refreshDelay}, at least 1 s), `stop` gives up. */
  failed(error: unknown): 'retry' | 'stop';
}

/**
 * Asks `provider` for the successor of `token` {@link refreshDelay} before its `exp` (nothing is
 * scheduled for a token without a readable `exp`). Returns a function that cancels it; no handler
 * is called after that.
 */
export function scheduleTokenRefresh(
  token: string,
  provider: TokenProvider,
  beforeMs: number,
  handlers: TokenRefreshHandlers,
  now: () => number = Date.now,
): () => void {
  const expiresAt = readTokenClaims(token).expiresAt;
  let cancelled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = (): void => {
    if (expiresAt === null) return;
    timer = setTimeout(
      () => {
        provider().then(
          (fresh) => {
            if (!cancelled) handlers.fresh(fresh);
          },
          (err: unknown) => {
            if (!cancelled && handlers.failed(err) === 'retry') schedule();
          },
        );
      },
      refreshDelay(expiresAt, now(), beforeMs),
    );
  };
  schedule();
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
