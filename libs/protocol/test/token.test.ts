/**
 * Client tokens (docs/protocol.md#tokens): reading `exp`/`role` from a JWT without verifying it,
 * when to refresh, and the refresh schedule both clients use (`SyncClient`, `DiaryxClient`).
 */
import { readTokenClaims, refreshDelay, scheduleTokenRefresh } from '../src/client/token';

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

describe('scheduleTokenRefresh', () => {
  const NOW = 1_700_000_000_000;
  const jwt = (expMs: number, nonce = ''): string =>
    `${b64url({ alg: 'none' })}.${b64url({ exp: expMs / 1000, role: 'editor', n: nonce })}.sig`;

  beforeEach(() => {
    jest.useFakeTimers();
    jest.setSystemTime(NOW);
  });
  afterEach(() => jest.useRealTimers());

  it('asks the provider `before` ms ahead of exp and hands over the fresh token', async () => {
    const fresh: string[] = [];
    const provider = jest.fn(async () => jwt(NOW + 3_600_000, 'next'));
    scheduleTokenRefresh(jwt(NOW + 600_000), provider, 30_000, {
      fresh: (t) => fresh.push(t),
      failed: () => 'stop',
    });
    await jest.advanceTimersByTimeAsync(569_000);
    expect(provider).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(provider).toHaveBeenCalledTimes(1);
    expect(fresh).toEqual([jwt(NOW + 3_600_000, 'next')]);
  });

  it('a short token is refreshed in the second half of its life', async () => {
    const provider = jest.fn(async () => 'next');
    scheduleTokenRefresh(jwt(NOW + 10_000), provider, 30_000, {
      fresh: () => undefined,
      failed: () => 'stop',
    });
    await jest.advanceTimersByTimeAsync(4_999);
    expect(provider).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(provider).toHaveBeenCalledTimes(1);
  });

  it('after a failure: `retry` asks again (not sooner than 1 s), `stop` gives up', async () => {
    const failures: unknown[] = [];
    let calls = 0;
    const provider = jest.fn(async () => {
      calls++;
      if (calls < 3) throw new Error(`down ${calls}`);
      return 'next';
    });
    const fresh: string[] = [];
    scheduleTokenRefresh(jwt(NOW + 4_000), provider, 30_000, {
      fresh: (t) => fresh.push(t),
      failed: (err) => (failures.push(err), 'retry'),
    });
    await jest.advanceTimersByTimeAsync(2_000);
    expect(failures).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(999);
    expect(provider).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(provider).toHaveBeenCalledTimes(2);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(fresh).toEqual(['next']);

    const stopped = jest.fn(async () => Promise.reject(new Error('gone')));
    scheduleTokenRefresh(jwt(NOW + 4_000), stopped, 30_000, { fresh: () => undefined, failed: () => 'stop' });
    await jest.advanceTimersByTimeAsync(60_000);
    expect(stopped).toHaveBeenCalledTimes(1);
  });

  it('nothing for a token without exp; nothing after cancel', async () => {
    const provider = jest.fn(async () => 'next');
    scheduleTokenRefresh('opaque', provider, 30_000, { fresh: () => undefined, failed: () => 'stop' });
    const fresh = jest.fn();
    const cancel = scheduleTokenRefresh(jwt(NOW + 4_000), provider, 30_000, { fresh, failed: () => 'stop' });
    cancel();
    await jest.advanceTimersByTimeAsync(60_000);
    expect(provider).not.toHaveBeenCalled();
    expect(fresh).not.toHaveBeenCalled();
  });
});
