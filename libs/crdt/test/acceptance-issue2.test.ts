/**
 * HealthTracker checks left from the issue-2 acceptance audit; every other check of that audit
 * now lives in the behaviour test of its module. These move to health-tracker.test.ts with the
 * self-healing rework of HealthTracker.
 */
import { HealingAction, HealthTracker } from '@diaryx-sync/crdt';

describe('9. HealthTracker', () => {
  test('threshold default 3; SkipCommit below, RepairThenAlert at/above; success resets; plain data', () => {
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

  test('a custom threshold can be given as a number', () => {
    const t = new HealthTracker(2);
    expect(t.recordFailure()).toBe('SkipCommit');
    expect(t.recordFailure()).toBe('RepairThenAlert');
  });
});

test('HealthTracker getState()/fromState()', () => {
  const t = new HealthTracker();
  t.recordFailure();
  t.recordFailure();
  const copy = HealthTracker.fromState(JSON.parse(JSON.stringify(t.getState())));
  expect(copy.recordFailure()).toBe('RepairThenAlert');
});
