/**
 * Roles of a token (`role` claim, docs/protocol.md#tokens): `admin` manages the tenant and may do
 * everything, `editor` reads and writes, `viewer` reads. The one definition every package uses.
 */

/** Every role. */
export const ROLES = ['editor', 'viewer', 'admin'] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];
