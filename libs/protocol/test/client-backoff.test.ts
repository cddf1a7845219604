import { DEFAULT_RECONNECT, backoffDelay, buildSyncUrl } from '../src/client';

describe('backoffDelay', () => {
  it('doubles from 1 s and caps at 32 s without jitter', () => {
    const opts = { ...DEFAULT_RECONNECT, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6, 7, 20, 1000].map((a) => backoffDelay(a, opts))).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000, 32000, 32000, 32000,
    ]);
  });

  it('spreads delays with jitter, within ±30 % and never above the cap', () => {
    const lows = backoffDelay(3, DEFAULT_RECONNECT, () => 0);
    const highs = backoffDelay(3, DEFAULT_RECONNECT, () => 0.999999);
    expect(lows).toBe(2800);
    expect(highs).toBeGreaterThan(5190);
    expect(highs).toBeLessThanOrEqual(5200);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(1 + (i % 12), DEFAULT_RECONNECT);
      expect(d).toBeGreaterThanOrEqual(700);
      expect(d).toBeLessThanOrEqual(32000);
    }
    const samples = new Set(Array.from({ length: 20 }, () => backoffDelay(2)));
    expect(samples.size).toBeGreaterThan(1);
  });
});

describe('buildSyncUrl', () => {
  it('adds /sync2 and the token to a bare server address', () => {
    expect(buildSyncUrl('ws://localhost:8080', 'a b')).toBe('ws://localhost:8080/sync2?token=a+b');
    expect(buildSyncUrl('https://sync.example.com/', 't')).toBe('wss://sync.example.com/sync2?token=t');
    expect(buildSyncUrl('ws://h:1/custom/sync2')).toBe('ws://h:1/custom/sync2');
  });
});
