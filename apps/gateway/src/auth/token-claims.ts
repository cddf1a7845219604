import { ROLES } from '@diaryx-sync/protocol';
import { z } from 'zod';
import { hasUnsafeText } from '../api/request-validation';

/** The wildcard entry of a token's `ws` claim: every workspace of the tenant. */
export const ALL_WORKSPACES = '*';

/** zod schema of the verified JWT payload (docs/protocol.md#tokens). */
export const tokenClaimsSchema = z.object({
  // Subjects and tenant ids end up in PostgreSQL rows and logs: no control characters.
  sub: z
    .string()
    .min(1)
    .refine((s) => !hasUnsafeText(s), 'unsafe characters'),
  tid: z
    .string()
    .min(1)
    .refine((s) => !hasUnsafeText(s), 'unsafe characters'),
  ws: z.array(z.string().min(1)),
  role: z.enum(ROLES),
  exp: z.number().int(),
  /** Token id (set on every token minted since revocation exists; docs/protocol.md#tokens). */
  jti: z.string().min(1).max(64).optional(),
  /** Optional name of the device the token is for, stored with every update it sends (docs/protocol.md#who-changed-what). */
  device_name: z
    .string()
    .min(1)
    .max(64)
    .refine((s) => !hasUnsafeText(s), 'unsafe characters')
    .optional(),
  /** Set on guest tokens of a share link (docs/protocol.md#share-links): the share id. */
  share: z.string().min(1).max(64).optional(),
});

/**
 * Claims of a verified token: user, tenant, covered workspaces (`["*"]` = all), role, expiry (s
 * since epoch), and for a share link's guest token the share id.
 */
export type TokenClaims = z.infer<typeof tokenClaimsSchema>;

/** What a caller may do to a workspace, in increasing order of privilege. */
export type WorkspaceAccessLevel = 'read' | 'write' | 'admin';
