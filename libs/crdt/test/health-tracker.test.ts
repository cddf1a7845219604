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

test('threshold default 3; state survives JSON through fromJSON and the constructor', () => {
  const t = new HealthTracker();
  expect(t.recordFailure()).toBe(HealingAction.SkipCommit);
  expect(t.recordFailure()).toBe('SkipCommit');
  const persisted = JSON.parse(JSON.stringify(t.state)) as unknown;
  const t2 = HealthTracker.fromJSON(persisted);
  expect(t2.recordFailure()).toBe('RepairThenAlert');
  expect(t2.recordFailure()).toBe(HealingAction.RepairThenAlert);
  t2.recordSuccess();
  expect(t2.consecutiveFailures).toBe(0);
  expect(t2.recordFailure()).toBe('SkipCommit');
  expect(new HealthTracker(t.state).state).toEqual(t.state);
});

test('a custom threshold is given in the state', () => {
  const t = new HealthTracker({ threshold: 2 });
  expect(t.recordFailure()).toBe('SkipCommit');
  expect(t.recordFailure()).toBe('RepairThenAlert');
});

test('toJSON output restores through fromJSON', () => {
  const t = new HealthTracker();
  t.recordFailure();
  t.recordFailure();
  const copy = HealthTracker.fromJSON(JSON.parse(JSON.stringify(t.toJSON())));
  expect(copy.recordFailure()).toBe('RepairThenAlert');
});
