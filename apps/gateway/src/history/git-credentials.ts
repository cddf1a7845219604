/**
 * Credentials of the git dumb-HTTP endpoint: HTTP Basic with the JWT as password (any user
 * name, e.g. `git clone http://token:JWT@host/git/ws.git`), or a Bearer header.
 */
import { extractBearerToken } from '../auth/bearer-token';

/** The realm git is challenged with (docs/protocol.md#http-api). */
export const GIT_REALM = 'diaryx-sync';

/** The token of an `Authorization` header (Basic password or Bearer), or undefined. */
export function extractGitToken(header: string | string[] | undefined): string | undefined {
  const bearer = extractBearerToken(header);
  if (bearer) return bearer;
  const value = Array.isArray(header) ? header[0] : header;
  const match = value ? /^Basic[ \t]+([A-Za-z0-9+/=]+)\s*$/i.exec(value) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon >= 0 ? decoded.slice(colon + 1) : '';
  return password.length > 0 ? password : undefined;
}
