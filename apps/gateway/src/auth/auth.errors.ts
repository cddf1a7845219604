/**
 * Why a token was refused: unparseable/bad signature/bad claims (`invalid`), past `exp`
 * (`expired`) or revoked by its `jti` (`revoked`).
 */
export type InvalidTokenReason = 'invalid' | 'expired' | 'revoked';

/**
 * Thrown by `AuthService.verify` for any token that must not be accepted. HTTP maps it to 401,
 * WebSocket connections to HTTP 401 at the upgrade or close code 4401.
 */
export class InvalidTokenError extends Error {
  override readonly name = 'InvalidTokenError';

  constructor(
    readonly reason: InvalidTokenReason,
    message: string,
  ) {
    super(message);
  }
}
