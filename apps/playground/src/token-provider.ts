import type { TokenProvider } from '@diaryx-sync/client';
import type { HttpApi } from './http-api';
import type { SignIn, TokenClaims } from './sign-in';

/**
 * The SDK's token provider for this page. Signed in with an `admin` token and `mint` set, every
 * call mints a fresh short-lived token of role `mint` for this workspace through `POST /api/tokens`
 * — what an app's backend does for its signed-in users (README.md, "Use it from your app").
 * Otherwise it returns the sign-in token itself.
 */
export function playgroundTokenProvider(
  signIn: SignIn,
  claims: TokenClaims,
  api: HttpApi,
  workspace: string,
): TokenProvider {
  if (claims.role !== 'admin' || !signIn.mint) return async () => signIn.token;
  const role = signIn.mint;
  return async () =>
    (await api.mintToken({ sub: signIn.name ?? claims.sub, ws: [workspace], role, ttl_s: signIn.ttlSeconds }))
      .token;
}
