/**
 * Reading the claims of a JWT without verifying it (the server verifies): `exp` to schedule the
 * refresh, `role` to know whether edits will be accepted. docs/protocol.md#tokens.
 */
import type { ClientRole } from './types';

/** The claims the client uses. */
export interface TokenClaimsView {
  /** Expiry in milliseconds since the epoch, or null when absent or unreadable. */
  readonly expiresAt: number | null;
  /** `role` claim, or null when absent or unknown. */
  readonly role: ClientRole | null;
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
