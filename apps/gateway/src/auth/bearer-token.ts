/**
 * Extracts the token of an `Authorization: Bearer <token>` header value; undefined when the header
 * is absent or uses another scheme.
 */
export function extractBearerToken(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(value);
  return match?.[1];
}
