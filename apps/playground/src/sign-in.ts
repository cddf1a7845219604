/**
 * What the page signs in with, read from the URL fragment (never sent to the server, so tokens
 * stay out of access logs): `#token=<JWT>[&workspace=<id>][&name=<display name>][&mint=editor|viewer][&ttl=<s>]`.
 */
export interface SignIn {
  /** The token the user signed in with (used for the HTTP API and, unless minting, for the socket). */
  readonly token: string;
  /** The workspace to open; else the token's only workspace, else the first one listed. */
  readonly workspace: string | null;
  /** Name shown to the others (default: the token's `sub`). */
  readonly name: string | null;
  /**
   * With an `admin` token: the socket uses short-lived tokens of this role minted through
   * `POST /api/tokens` (the token-provider pattern; in a real app the minting is your backend's job).
   */
  readonly mint: 'editor' | 'viewer' | null;
  /** Lifetime of minted tokens in seconds (default 300). */
  readonly ttlSeconds: number;
}

/** The claims the page reads from a token (decoded, not verified: the server does that). */
export interface TokenClaims {
  readonly sub: string;
  readonly tid: string;
  readonly ws: readonly string[];
  readonly role: 'editor' | 'viewer' | 'admin';
  readonly exp: number;
}

/** Parses a `location.hash`; null when it carries no token. */
export function parseSignIn(hash: string): SignIn | null {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token');
  if (!token) return null;
  const mint = params.get('mint');
  const ttl = Number(params.get('ttl'));
  return {
    token,
    workspace: params.get('workspace'),
    name: params.get('name'),
    mint: mint === 'editor' || mint === 'viewer' ? mint : null,
    ttlSeconds: Number.isInteger(ttl) && ttl > 0 ? ttl : 300,
  };
}

/** The fragment that signs in with `signIn` (inverse of {@link parseSignIn}). */
export function signInHash(signIn: Pick<SignIn, 'token'> & Partial<SignIn>): string {
  const params = new URLSearchParams({ token: signIn.token });
  if (signIn.workspace) params.set('workspace', signIn.workspace);
  if (signIn.name) params.set('name', signIn.name);
  if (signIn.mint) params.set('mint', signIn.mint);
  if (signIn.ttlSeconds) params.set('ttl', String(signIn.ttlSeconds));
  return `#${params.toString()}`;
}

/** Reads a JWT's claims without verifying it; null when it is not a JWT. */
export function decodeClaims(token: string): TokenClaims | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
    const claims = JSON.parse(json) as Partial<TokenClaims>;
    if (typeof claims.tid !== 'string' || !Array.isArray(claims.ws)) return null;
    return {
      sub: typeof claims.sub === 'string' ? claims.sub : 'anonymous',
      tid: claims.tid,
      ws: claims.ws,
      role: claims.role === 'admin' || claims.role === 'viewer' ? claims.role : 'editor',
      exp: typeof claims.exp === 'number' ? claims.exp : 0,
    };
  } catch {
    return null;
  }
}
