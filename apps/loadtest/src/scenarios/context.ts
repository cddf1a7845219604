/** What every scenario gets: the target, the size of the worker pool and the output hooks. */
import type { Target } from '../target/target';

export interface ScenarioContext {
  target: Target;
  /** Load worker threads (fan-out, connections, joinstorm). */
  workers: number;
  /** Status lines (set-up, phases). */
  log(line: string): void;
  /** One progress line per second (a TTY), or undefined for silence. */
  progress?: (line: string) => void;
}
