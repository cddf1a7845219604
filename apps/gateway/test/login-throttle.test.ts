import { LoginThrottle } from '../src/ops/login-throttle';

describe('LoginThrottle', () => {
  const options = {
    maxFailures: 5,
    windowMs: 60_000,
    lockoutMs: 60_000,
    maxLockoutMs: 240_000,
    maxAddresses: 3,
  };

  it('locks an address out after 5 failures in a minute, doubling the lockout up to the maximum', () => {
    let now = 1_000_000;
    const t = new LoginThrottle(options, () => now);
    for (let i = 0; i < 4; i++) expect(t.failed('a')).toBe(0);
    expect(t.retryAfterSeconds('a')).toBe(0);
    expect(t.failed('a')).toBe(60);
    expect(t.retryAfterSeconds('a')).toBe(60);
    expect(t.retryAfterSeconds('b')).toBe(0); // per address
    now += 60_000;
    expect(t.retryAfterSeconds('a')).toBe(0);
    const lockouts: number[] = [];
    for (let round = 0; round < 4; round++) {
      let lock = 0;
      for (let i = 0; i < 5; i++) lock = t.failed('a');
      lockouts.push(lock);
      now += lock * 1000;
    }
    expect(lockouts).toEqual([120, 240, 240, 240]);
  });

  it('counts failures within the window only, and a success starts afresh', () => {
    let now = 0;
    const t = new LoginThrottle(options, () => now);
    for (let i = 0; i < 4; i++) t.failed('a');
    now += 61_000;
    expect(t.failed('a')).toBe(0); // the first four fell out of the window
    for (let i = 0; i < 3; i++) t.failed('a');
    t.succeeded('a');
    for (let i = 0; i < 4; i++) expect(t.failed('a')).toBe(0);
  });

  it('keeps at most maxAddresses records (least recently seen forgotten first)', () => {
    const t = new LoginThrottle(options, () => 0);
    for (const a of ['a', 'b', 'c', 'd', 'e']) t.failed(a);
    expect(t.size).toBe(3);
  });
});
