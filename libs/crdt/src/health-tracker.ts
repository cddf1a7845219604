/**
 * `HealthTracker`: consecutive validation failures of a workspace (after repair in place), deciding
 * between skipping a commit and raising an alert. A validation failure never reverts content; a
 * rebuild is only for state that cannot be read (docs/self-healing.md).
 */

/** What to do after a validation failure. */
export const HealingAction = {
  /** Skip this commit and try again later. */
  SkipCommit: 'SkipCommit',
  /**
   * Too many consecutive failures: repair in place once more, then alert operators when the
   * workspace still fails (commits stay stopped, nothing is reverted).
   */
  RepairThenAlert: 'RepairThenAlert',
} as const;

/** `'SkipCommit' | 'RepairThenAlert'`. */
export type HealingAction = (typeof HealingAction)[keyof typeof HealingAction];

/** Default number of consecutive failures that raises an alert. */
export const DEFAULT_FAILURE_THRESHOLD = 3;

/** The tracker's state as plain data (persist it as JSON). */
export interface HealthState {
  /** Consecutive failures since the last success. */
  consecutive_failures: number;
  /** Failures needed for {@link HealingAction.RepairThenAlert}. */
  threshold: number;
  /** Time of the last failure (ms since epoch) or null. */
  last_failure_at: number | null;
  /** Time of the last success (ms since epoch) or null. */
  last_success_at: number | null;
}

/** Tracks consecutive validation failures. */
export class HealthTracker {
  private s: HealthState;

  /** A fresh tracker (`new HealthTracker({ threshold: 5 })`), or one restored from persisted state. */
  constructor(state: Partial<HealthState> = {}) {
    const threshold = state.threshold ?? DEFAULT_FAILURE_THRESHOLD;
    this.s = {
      consecutive_failures: Math.max(0, Math.floor(state.consecutive_failures ?? 0)),
      threshold: Number.isInteger(threshold) && threshold > 0 ? threshold : DEFAULT_FAILURE_THRESHOLD,
      last_failure_at: state.last_failure_at ?? null,
      last_success_at: state.last_success_at ?? null,
    };
  }

  /** Restores a tracker from {@link HealthTracker.toJSON} output (tolerates bad input). */
  static fromJSON(value: unknown): HealthTracker {
    if (typeof value !== 'object' || value === null) return new HealthTracker();
    const v = value as Record<string, unknown>;
    const num = (x: unknown): number | undefined =>
      typeof x === 'number' && Number.isFinite(x) ? x : undefined;
    return new HealthTracker({
      consecutive_failures: num(v.consecutive_failures),
      threshold: num(v.threshold),
      last_failure_at: num(v.last_failure_at) ?? null,
      last_success_at: num(v.last_success_at) ?? null,
    });
  }

  /** Records a successful validation/commit: the failure count resets to 0. */
  recordSuccess(now: number = Date.now()): void {
    this.s = { ...this.s, consecutive_failures: 0, last_success_at: now };
  }

  /**
   * Records a failure: below the threshold answers `SkipCommit`, at or above it `RepairThenAlert`.
   */
  recordFailure(now: number = Date.now()): HealingAction {
    this.s = { ...this.s, consecutive_failures: this.s.consecutive_failures + 1, last_failure_at: now };
    return this.nextAction();
  }

  /** The action the current failure count calls for. */
  nextAction(): HealingAction {
    return this.s.consecutive_failures >= this.s.threshold
      ? HealingAction.RepairThenAlert
      : HealingAction.SkipCommit;
  }

  /** True when the failure count has reached the threshold (an alert is due if repair fails). */
  shouldAlert(): boolean {
    return this.nextAction() === HealingAction.RepairThenAlert;
  }

  /** Consecutive failures since the last success. */
  get consecutiveFailures(): number {
    return this.s.consecutive_failures;
  }

  /** A copy of the state. */
  get state(): HealthState {
    return { ...this.s };
  }

  /** The state as plain data. */
  toJSON(): HealthState {
    return this.state;
  }
}
