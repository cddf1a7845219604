/** Reading `exp`/`role` from a JWT without verifying it, and when to refresh. */
import { readTokenClaims, refreshDelay } from '../src/token';

const b64url = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');

test('exp (in ms) and role are read from the payload, base64url with non-ASCII text', () => {
  const jwt = `${b64url({ alg: 'HS256' })}.${b64url({ exp: 1_900_000_000, role: 'viewer', sub: 'Zoë ✓' })}.sig`;
  expect(readTokenClaims(jwt)).toEqual({ expiresAt: 1_900_000_000_000, role: 'viewer' });
});

test('unreadable tokens and unknown roles give nulls', () => {
  expect(readTokenClaims('opaque-token')).toEqual({ expiresAt: null, role: null });
  expect(readTokenClaims('a.%%%.c')).toEqual({ expiresAt: null, role: null });
  expect(readTokenClaims(`x.${b64url({ exp: 'soon', role: 'root' })}.y`)).toEqual({
    expiresAt: null,
    role: null,
  });
});

test('refresh: `before` ms ahead of exp, at most half the remaining life, never sooner than 1 s', () => {
  const now = 1_000_000;
  expect(refreshDelay(now + 3_600_000, now, 30_000)).toBe(3_570_000);
  expect(refreshDelay(now + 4_000, now, 30_000)).toBe(2_000);
  expect(refreshDelay(now + 500, now, 30_000)).toBe(1_000);
  expect(refreshDelay(now - 5_000, now, 30_000)).toBe(1_000);
});
