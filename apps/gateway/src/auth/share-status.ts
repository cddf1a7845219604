/**
 * Whether a share link still admits its guests (docs/protocol.md#share-links). {@link AuthService}
 * asks it for every token carrying a `share` claim; the shares module provides it.
 */
export interface ShareStatus {
  /** True while share `shareId` of `tenant` exists, is not revoked, not expired, and its workspace still exists. */
  isActive(tenant: string, shareId: string): Promise<boolean>;
  /** Drops any cached answer for the share (it was revoked on some gateway). */
  forget(tenant: string, shareId: string): void;
}

/** Injection token of the {@link ShareStatus} provider. */
export const SHARE_STATUS = Symbol('SHARE_STATUS');
