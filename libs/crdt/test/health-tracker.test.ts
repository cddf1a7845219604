import { HealingAction, HealthTracker } from '../src';

test('failures below the threshold skip, at or above rebuild; success resets', () => {
  const t = new HealthTracker();
  expect(t.recordFailure()).toBe(HealingAction.SkipCommit);
  expect(t.recordFailure()).toBe('SkipCommit');
  expect(t.recordFailure()).toBe('RepairThenAlert');
  expect(t.recordFailure()).toBe('RepairThenAlert');
  expect(t.shouldAlert()).toBe(true);
  t.recordSuccess();
  expect(t.consecutiveFailures).toBe(0);
  expect(t.recordFailure()).toBe('SkipCommit');
});

test('custom threshold and plain-data state round trip', () => {
  const t = new HealthTracker({ threshold: 2 });
  t.recordFailure(1000);
  const json = JSON.parse(JSON.stringify(t));
  expect(json).toEqual({
    consecutive_failures: 1,
    threshold: 2,
    last_failure_at: 1000,
    last_success_at: null,
  });
  const restored = HealthTracker.fromJSON(json);
  expect(restored.recordFailure()).toBe('RepairThenAlert');
  expect(HealthTracker.fromJSON('garbage').state.consecutive_failures).toBe(0);
  expect(new HealthTracker({ threshold: -1 }).state.threshold).toBe(3);
});
